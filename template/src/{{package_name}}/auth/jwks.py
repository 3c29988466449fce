"""Tokens from an external identity provider, checked with its JWKS.

Keys are cached for ``APP_AUTH_JWKS_CACHE_SECONDS``. A token signed with a key
not in the cache (the provider rotated its keys) makes one fetch, at most once
per ``APP_AUTH_JWKS_MIN_REFRESH_SECONDS``, and concurrent requests share it. A
provider that cannot be reached leaves the cached keys in use; with none, the
request gets 503.
"""

import asyncio
import logging
import time

import httpx
import jwt

from .principal import Principal
from .settings import AuthSettings
from .verification import (
    AuthUnavailableError,
    InvalidTokenError,
    decode_claims,
    principal_from_claims,
)

logger = logging.getLogger(__name__)

# A JWKS is a few kilobytes; refuse to parse anything absurd.
MAX_JWKS_BYTES = 1024 * 1024


class JwksTokenVerifier:
    def __init__(self, settings: AuthSettings, *, timeout_seconds: float) -> None:
        assert settings.auth_jwks_url is not None
        self._settings = settings
        self._url = settings.auth_jwks_url
        self._algorithms: list[str] = list(settings.auth_jwks_algorithms)
        self._client = httpx.AsyncClient(timeout=timeout_seconds)
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = -float("inf")
        self._lock = asyncio.Lock()

    async def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except (jwt.PyJWTError, ValueError, TypeError, UnicodeError) as exc:
            raise InvalidTokenError("the token is malformed") from exc
        algorithm, kid = header.get("alg"), header.get("kid", "")
        if algorithm not in self._algorithms:
            raise InvalidTokenError("the token's algorithm is not accepted")
        if not isinstance(kid, str):
            raise InvalidTokenError("the token is malformed")
        key = await self._key(kid)
        # The key's own algorithm, not the header's: no algorithm confusion.
        claims = decode_claims(token, key.key, self._settings, [key.algorithm_name])
        return principal_from_claims(claims, self._settings.auth_roles_claim)

    async def _key(self, kid: str) -> jwt.PyJWK:
        age = time.monotonic() - self._fetched_at
        if age >= self._settings.auth_jwks_cache_seconds or (
            kid not in self._keys
            and age >= self._settings.auth_jwks_min_refresh_seconds
        ):
            await self._refresh(seen_at=self._fetched_at)
        key = self._keys.get(kid)
        if key is None:
            raise InvalidTokenError("the token is signed with an unknown key")
        return key

    async def _refresh(self, *, seen_at: float) -> None:
        async with self._lock:
            if self._fetched_at != seen_at:
                return  # another request fetched them while this one waited
            try:
                self._keys = await self._fetch()
            except (httpx.HTTPError, ValueError, jwt.PyJWTError) as exc:
                logger.warning("Could not fetch the JWKS at %s: %s", self._url, exc)
                if not self._keys:
                    raise AuthUnavailableError(
                        "the identity provider's keys cannot be fetched"
                    ) from exc
            # Also after a failure: the next attempt waits its turn.
            self._fetched_at = time.monotonic()

    async def _fetch(self) -> dict[str, jwt.PyJWK]:
        response = await self._client.get(self._url)
        response.raise_for_status()
        if len(response.content) > MAX_JWKS_BYTES:
            raise ValueError("the JWKS is too large")
        keys = jwt.PyJWKSet.from_dict(response.json()).keys
        usable = (key for key in keys if key.algorithm_name in self._algorithms)
        return {key.key_id or "": key for key in usable}

    async def close(self) -> None:
        await self._client.aclose()
