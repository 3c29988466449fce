"""Build the broker and result backend named by ``APP_BROKER_URL``."""

from pathlib import Path
from urllib.parse import urlsplit

from taskiq import AsyncBroker, InMemoryBroker

from ..jobs.tracking import JobTrackingMiddleware
from ..settings import Settings
from .redis_broker import ReliableRedisStreamBroker, redis_result_backend
from .sqlite_broker import SqliteBroker
from .sqlite_results import SqliteResultBackend


def create_broker(settings: Settings) -> AsyncBroker:
    url = settings.broker_url
    scheme = urlsplit(url).scheme
    broker: AsyncBroker
    if scheme == "memory":
        # Tests only: tasks run inside the calling process.
        broker = InMemoryBroker()
    elif scheme == "sqlite":
        path = sqlite_path(url)
        broker = SqliteBroker(path, queue_name=settings.task_queue).with_result_backend(
            SqliteResultBackend(path, result_ttl_seconds=settings.result_ttl_seconds)
        )
    else:
        broker = ReliableRedisStreamBroker(
            url, queue_name=settings.task_queue
        ).with_result_backend(
            redis_result_backend(url, result_ttl_seconds=settings.result_ttl_seconds)
        )
    return broker.with_middlewares(JobTrackingMiddleware())


def sqlite_path(url: str) -> Path:
    """``sqlite:///var/b.db`` is relative, ``sqlite:////srv/b.db`` absolute."""
    path = url.removeprefix("sqlite://").removeprefix("/")
    if not path:
        raise ValueError(f"{url!r} names no file: use sqlite:///path/to/broker.db")
    return Path(path if not url.startswith("sqlite:////") else "/" + path)
