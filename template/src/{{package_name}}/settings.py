"""Every knob of the service, read from the environment (prefix ``APP_``)."""

from functools import lru_cache
from pathlib import Path
from typing import Literal, Self
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from .worker.backends import broker_backend, store_schemes

# The service's database drivers are async: a URL without its driver, by backend.
ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="APP_", env_file=".env", extra="ignore", frozen=True
    )

    environment: Literal["development", "test", "production"] = "development"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    # The embedded defaults need nothing installed: both live in the project's
    # ./var, whichever folder a command runs from (anchored_sqlite_url).
    database_url: str = "sqlite+aiosqlite:///./var/app.db"
    broker_url: str = "sqlite:///./var/broker.db"
    # Task results, job events, modules' shared state: beside the broker's messages
    # (same SQLite file, same Redis) unless set. A broker that cannot keep them
    # needs a URL here (see _store_beside_broker).
    result_backend_url: str | None = None

    # Services sharing one Redis must not take each other's tasks.
    task_queue: str = Field(default=__name__.split(".")[0], min_length=1)
    result_ttl_seconds: int = Field(default=7 * 24 * 3600, gt=0)
    worker_processes: int = Field(default=1, ge=1)
    worker_concurrency: int = Field(default=32, ge=1)
    worker_prefetch: int = Field(default=0, ge=0)
    worker_shutdown_grace_seconds: float = Field(default=30.0, gt=0)
    # How long a dead worker's tasks wait before another worker runs them. A
    # live worker renews its leases, so this does not limit a task's duration.
    task_lease_seconds: float = Field(default=30.0, gt=0)
    # Deliveries after which a message that never finished is parked.
    task_max_deliveries: int = Field(default=10, ge=1)
    # Retries (tasks opt in with retry_on_error=True): exponential backoff.
    retry_base_delay_seconds: float = Field(default=1.0, gt=0)
    retry_max_delay_seconds: float = Field(default=300.0, gt=0)
    # An enqueue that takes longer fails with 503 instead of holding the request.
    broker_timeout_seconds: float = Field(default=3.0, gt=0)

    # Larger request bodies are refused with 413 before they are read whole.
    max_request_body_bytes: int = Field(default=1024 * 1024, ge=1024)

    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8000, ge=1, le=65535)
    api_workers: int = Field(default=1, ge=1)
    cors_origins: list[str] = []

    # Unset: e-mails are written to the log instead of being sent.
    smtp_url: SecretStr | None = None
    email_from: str = "noreply@example.com"
    http_timeout_seconds: float = Field(default=10.0, gt=0)
    # At most this many e-mails are being sent at once per process.
    smtp_max_concurrency: int = Field(default=5, ge=1)
    # In production, smtp:// must upgrade with STARTTLS (or the e-mail fails
    # rather than send the password in clear) unless this is set.
    smtp_allow_plaintext: bool = False

    # Observability (README: Observability). Log format unset: JSON lines in
    # production, readable text elsewhere.
    log_format: Literal["text", "json"] | None = None
    metrics_enabled: bool = True
    # Unset: worker processes serve no metrics. In a container, set the host
    # to 0.0.0.0 so that Prometheus can reach the port.
    worker_metrics_port: int | None = Field(default=None, ge=1, le=65535)
    worker_metrics_host: str = "127.0.0.1"

    @field_validator("broker_url")
    @classmethod
    def _known_broker(cls, value: str) -> str:
        broker_backend(value)  # Raises ValueError naming the schemes served.
        return value

    @field_validator("database_url")
    @classmethod
    def _async_database(cls, value: str) -> str:
        examples = (
            "sqlite+aiosqlite:///./var/app.db or "
            "postgresql+asyncpg://user:password@host:5432/db"
        )
        try:
            url = make_url(value)
            is_async = url.get_dialect().is_async
        except (ArgumentError, NoSuchModuleError, ImportError):
            raise ValueError(f"not a database URL: use {examples}") from None
        if not is_async:
            driver = ASYNC_DRIVERS.get(url.get_backend_name())
            fix = f"{driver}://…" if driver else examples
            raise ValueError(f"{url.drivername}://… names no async driver: use {fix}")
        return value

    @field_validator("database_url", "broker_url", "result_backend_url")
    @classmethod
    def _anchor_sqlite_file(cls, value: str | None) -> str | None:
        return value and anchored_sqlite_url(value)

    @field_validator("result_backend_url")
    @classmethod
    def _known_store(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme not in store_schemes():
            expected = ", ".join(f"{s}://" for s in store_schemes())
            raise ValueError(f"unsupported result backend: use one of {expected}")
        return value

    @field_validator("smtp_url")
    @classmethod
    def _smtp_scheme(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            scheme = urlsplit(value.get_secret_value()).scheme
            if scheme not in ("smtp", "smtps"):
                raise ValueError("APP_SMTP_URL must start with smtp:// or smtps://")
        return value

    @model_validator(mode="after")
    def _store_beside_broker(self) -> Self:
        keeps_results = broker_backend(self.broker_url).keeps_results
        if self.result_backend_url is None and not keeps_results:
            scheme = urlsplit(self.broker_url).scheme
            raise ValueError(
                f"APP_BROKER_URL={scheme}://… needs APP_RESULT_BACKEND_URL (e.g. "
                "redis://redis-host:6379/0): that broker keeps no task results, "
                "job events or modules' shared state"
            )
        return self

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Self:
        if self.environment != "production":
            return self
        problems = []
        if self.broker_url.startswith("memory://"):
            problems.append(
                "APP_BROKER_URL=memory:// runs tasks inside the API process "
                "and loses them on restart"
            )
        if self.smtp_url is None:
            problems.append("APP_SMTP_URL is unset, so e-mails would only be logged")
        if "*" in self.cors_origins:
            problems.append("APP_CORS_ORIGINS must list origins, not '*'")
        insecure = [o for o in self.cors_origins if not o.startswith("https://")]
        if insecure and "*" not in self.cors_origins:
            problems.append(
                "APP_CORS_ORIGINS must list https:// origins only (not 'null' or "
                "http://): " + ", ".join(repr(o[:60]) for o in insecure)
            )
        if problems:
            raise ValueError("unsafe production settings: " + "; ".join(problems))
        return self

    @property
    def store_url(self) -> str:
        """Where task results, job events and modules' shared state live."""
        return self.result_backend_url or self.broker_url

    @property
    def log_format_in_use(self) -> Literal["text", "json"]:
        if self.log_format is not None:
            return self.log_format
        return "json" if self.environment == "production" else "text"

    @property
    def smtp_requires_tls(self) -> bool:
        return self.environment == "production" and not self.smtp_allow_plaintext

    @property
    def database_is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def project_root() -> Path:
    """The service's folder when it runs from its source tree (src/<package>/
    beside pyproject.toml); elsewhere (installed, in an image) the working
    directory."""
    source_root = Path(__file__).resolve().parents[2]
    return source_root if (source_root / "pyproject.toml").is_file() else Path.cwd()


def anchored_sqlite_url(url: str) -> str:
    """A SQLite file given by a relative path (./var/app.db) is the project's,
    whichever folder a command runs from: never a second database in src/var."""
    if not url.startswith("sqlite"):
        return url
    try:
        parsed = make_url(url)
    except ArgumentError:
        return url  # Not a URL: the setting's own check says so.
    path = parsed.database
    if not path or path == ":memory:" or path.startswith("file:"):
        return url
    if Path(path).is_absolute():
        return url
    absolute = parsed.set(database=str(project_root() / path))
    return absolute.render_as_string(hide_password=False)


@lru_cache
def get_settings() -> Settings:
    return Settings()
