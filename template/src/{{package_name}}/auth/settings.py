"""Authentication's own knobs, from the same ``APP_*`` environment."""

from functools import lru_cache
from typing import Literal, Self
from urllib.parse import urlsplit

from limits import parse as parse_rate_limit
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE = __name__.split(".")[0]
# Refused in production (see below): it only lets development start as is.
DEVELOPMENT_SECRET = "development-only-auth-secret-key-change-me"  # noqa: S105
MIN_SECRET_LENGTH = 32
# A secret of 32 characters drawn from fewer than this many symbols is a
# pattern ("aaaa…", "abab…"), not a random value.
MIN_SECRET_SYMBOLS = 8

JwksAlgorithm = Literal["RS256", "RS384", "RS512", "ES256", "ES384", "ES512"]


class AuthSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="APP_", env_file=".env", extra="ignore", frozen=True
    )

    environment: Literal["development", "test", "production"] = "development"

    # This service's own tokens (HS256). Unused with an identity provider.
    auth_secret_key: SecretStr = SecretStr(DEVELOPMENT_SECRET)
    auth_access_token_ttl_seconds: int = Field(default=900, ge=30, le=24 * 3600)
    auth_refresh_token_ttl_seconds: int = Field(default=14 * 24 * 3600, ge=300)
    # `iss` and `aud` of the tokens: this service's own, or, with
    # APP_AUTH_JWKS_URL, what the identity provider's tokens must carry.
    auth_issuer: str = PACKAGE
    auth_audience: str = PACKAGE

    # Set: verify an identity provider's tokens with its published keys
    # instead of issuing tokens here.
    auth_jwks_url: str | None = None
    auth_jwks_algorithms: list[JwksAlgorithm] = ["RS256", "ES256"]
    # Keys are fetched again after this long, or at once for an unknown `kid`
    # (at most once per APP_AUTH_JWKS_MIN_REFRESH_SECONDS: a forged `kid`
    # cannot make the service hammer the provider).
    auth_jwks_cache_seconds: float = Field(default=600.0, gt=0)
    auth_jwks_min_refresh_seconds: float = Field(default=30.0, ge=0)
    # Where the provider puts roles: a claim name, or a dotted path such as
    # "realm_access.roles" (Keycloak).
    auth_roles_claim: str = Field(default="roles", min_length=1)

    # Who may call POST /users: anyone, nobody, or admins only.
    registration: Literal["open", "closed", "admin"] = "open"
    # Attempts per client address and, separately, per account.
    auth_login_rate_limit: str = "10/minute"
    registration_rate_limit: str = "5/minute"

    @field_validator("auth_login_rate_limit", "registration_rate_limit")
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        try:
            parse_rate_limit(value)
        except ValueError as exc:
            raise ValueError(
                f"{value!r} is not a rate limit: write e.g. 10/minute or 100/hour"
            ) from exc
        return value

    @field_validator("auth_jwks_url")
    @classmethod
    def _jwks_url(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme not in ("https", "http"):
            raise ValueError("APP_AUTH_JWKS_URL must be an https:// URL")
        return value

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Self:
        if self.environment != "production":
            return self
        problems = []
        if self.auth_jwks_url is None and not strong_secret(
            self.auth_secret_key.get_secret_value()
        ):
            problems.append(
                f"APP_AUTH_SECRET_KEY must be a random value of at least "
                f"{MIN_SECRET_LENGTH} characters (e.g. the output of "
                "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`)"
            )
        if self.auth_jwks_url is not None and not self.auth_jwks_url.startswith(
            "https://"
        ):
            problems.append("APP_AUTH_JWKS_URL must use https:// in production")
        if problems:
            raise ValueError("unsafe production settings: " + "; ".join(problems))
        return self

    @property
    def issues_tokens(self) -> bool:
        """False with an identity provider: it issues the tokens."""
        return self.auth_jwks_url is None


def strong_secret(secret: str) -> bool:
    return (
        secret != DEVELOPMENT_SECRET
        and len(secret) >= MIN_SECRET_LENGTH
        and len(set(secret)) >= MIN_SECRET_SYMBOLS
    )


@lru_cache
def get_auth_settings() -> AuthSettings:
    return AuthSettings()
