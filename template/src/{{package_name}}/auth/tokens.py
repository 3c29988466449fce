"""This service's own tokens: short-lived access tokens (JWT, HS256) and
opaque refresh tokens, of which only a hash is stored."""

import hashlib
import secrets
import time
import uuid
from typing import Any

import jwt

from .principal import Principal
from .settings import AuthSettings
from .verification import decode_claims, principal_from_claims

ALGORITHM = "HS256"
ROLES_CLAIM = "roles"


def issue_access_token(
    principal: Principal, settings: AuthSettings, *, ttl_seconds: int | None = None
) -> str:
    now = int(time.time())
    ttl = settings.auth_access_token_ttl_seconds if ttl_seconds is None else ttl_seconds
    claims: dict[str, Any] = {
        "sub": principal.subject,
        "iss": settings.auth_issuer,
        "aud": settings.auth_audience,
        "iat": now,
        "exp": now + ttl,
        "jti": uuid.uuid4().hex,
    }
    if principal.roles:
        claims[ROLES_CLAIM] = sorted(principal.roles)
    if principal.scopes:
        claims["scope"] = " ".join(sorted(principal.scopes))
    if principal.user_id is not None:
        claims["uid"] = principal.user_id
    secret = settings.auth_secret_key.get_secret_value()
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


class LocalTokenVerifier:
    def __init__(self, settings: AuthSettings) -> None:
        self._settings = settings

    async def verify(self, token: str) -> Principal:
        secret = self._settings.auth_secret_key.get_secret_value()
        claims = decode_claims(token, secret, self._settings, [ALGORITHM])
        return principal_from_claims(claims, ROLES_CLAIM)

    async def close(self) -> None:
        return None


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def hash_refresh_token(token: str) -> str:
    # 256 random bits need no slow hash: SHA-256 cannot be brute-forced back.
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
