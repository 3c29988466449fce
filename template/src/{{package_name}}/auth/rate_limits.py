"""Brute-force limits on logins and registrations (the ``limits`` library):
per client address and, separately, per account, in Redis when the service
has one (every API process counts together) and in memory otherwise."""

import logging
import math
import time
from urllib.parse import urlsplit

from fastapi import HTTPException, status
from limits import RateLimitItem
from limits import parse as parse_rate_limit
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from redis.exceptions import RedisError

from ..settings import Settings
from .settings import AuthSettings

logger = logging.getLogger(__name__)


class RateLimits:
    def __init__(self, storage: Storage, settings: AuthSettings) -> None:
        self.storage = storage
        self._limiter = MovingWindowRateLimiter(storage)
        self.login = parse_rate_limit(settings.auth_login_rate_limit)
        self.registration = parse_rate_limit(settings.registration_rate_limit)

    async def hit(self, limit: RateLimitItem, action: str, **keys: str) -> None:
        """Count one attempt under every key (``address=…``, ``account=…``);
        429 with Retry-After once any of them is over the limit.

        A store that fails lets the attempt through, with a warning: an
        outage of Redis must not lock every user out.
        """
        for kind, value in keys.items():
            identifiers = (action, kind, value)
            try:
                if await self._limiter.hit(limit, *identifiers):
                    continue
                stats = await self._limiter.get_window_stats(limit, *identifiers)
            except (StorageError, RedisError, OSError) as exc:
                logger.warning("Rate limit store unavailable, not limiting: %s", exc)
                return
            retry_after = max(1, math.ceil(stats.reset_time - time.time()))
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                f"too many attempts for this {kind}: retry in {retry_after} s",
                headers={"Retry-After": str(retry_after)},
            )


def create_rate_limits(settings: Settings, auth: AuthSettings) -> RateLimits:
    url = settings.store_url
    storage: Storage
    if urlsplit(url).scheme in ("redis", "rediss"):
        storage = RedisStorage(
            f"async+{url}",
            implementation="redispy",
            key_prefix=f"{settings.task_queue}:rate-limits",
            socket_connect_timeout=settings.broker_timeout_seconds,
            socket_timeout=settings.broker_timeout_seconds,
        )
    else:
        storage = MemoryStorage()
    return RateLimits(storage, auth)
