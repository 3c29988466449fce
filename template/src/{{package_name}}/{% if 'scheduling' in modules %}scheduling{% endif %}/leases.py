"""Named leases with an expiry, in the broker's Redis or SQLite file.

A lease is held by one holder at a time until it expires or is released; its
holder may renew it. The scheduler takes two kinds: one for leadership, and one
per occurrence of a schedule, so that an occurrence is sent once even when two
schedulers both believe they lead (one paused past its lease, say).
"""

import time
from typing import Protocol
from urllib.parse import urlsplit

from redis.asyncio import Redis

from ..settings import Settings
from ..worker.backends.sqlite.connection import SqliteConnection, sqlite_path


class Leases(Protocol):
    async def acquire(self, name: str, holder: str, seconds: float) -> bool:
        """Take the lease, or renew it if ``holder`` has it; False if another has it."""

    async def claim(self, name: str, holder: str, seconds: float) -> bool:
        """Take the lease only if no one has it, ``holder`` included."""

    async def release(self, name: str, holder: str) -> None:
        """Give the lease up, if ``holder`` has it."""

    async def purge_expired(self) -> None:
        """Forget expired leases, where the store does not do it by itself."""

    async def close(self) -> None: ...


# KEYS: lease. ARGV: holder, milliseconds.
_ACQUIRE = """
local current = redis.call('GET', KEYS[1])
if current == false or current == ARGV[1] then
    redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
    return 1
end
return 0
"""

# KEYS: lease. ARGV: holder.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""


class RedisLeases:
    def __init__(self, url: str, *, prefix: str, connect_timeout: float) -> None:
        self.prefix = prefix
        self.redis = Redis.from_url(url, socket_connect_timeout=connect_timeout)
        self._acquire = self.redis.register_script(_ACQUIRE)
        self._release = self.redis.register_script(_RELEASE)

    async def acquire(self, name: str, holder: str, seconds: float) -> bool:
        milliseconds = max(1, round(seconds * 1000))
        taken = await self._acquire(
            keys=[f"{self.prefix}:{name}"], args=[holder, milliseconds]
        )
        return bool(taken)

    async def claim(self, name: str, holder: str, seconds: float) -> bool:
        milliseconds = max(1, round(seconds * 1000))
        taken = await self.redis.set(
            f"{self.prefix}:{name}", holder, nx=True, px=milliseconds
        )
        return bool(taken)

    async def release(self, name: str, holder: str) -> None:
        await self._release(keys=[f"{self.prefix}:{name}"], args=[holder])

    async def purge_expired(self) -> None:
        """Nothing to do: Redis drops a key when its expiry passes."""

    async def close(self) -> None:
        await self.redis.aclose()


SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS taskiq_leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_taskiq_leases_expires_at ON taskiq_leases (expires_at);
"""

# One statement, so two processes cannot both take a lease: SQLite's write
# lock serialises them, and the loser's conflict update matches no row.
_SQLITE_TAKE = """
INSERT INTO taskiq_leases (name, holder, expires_at) VALUES (:name, :holder, :expires)
ON CONFLICT (name) DO UPDATE SET holder = :holder, expires_at = :expires
WHERE taskiq_leases.expires_at <= :now {or_renew}
RETURNING holder
"""
_SQLITE_ACQUIRE = _SQLITE_TAKE.format(or_renew="OR taskiq_leases.holder = :holder")
_SQLITE_CLAIM = _SQLITE_TAKE.format(or_renew="")


class SqliteLeases:
    def __init__(self, connection: SqliteConnection, *, prefix: str) -> None:
        self.connection = connection
        self.prefix = prefix

    async def acquire(self, name: str, holder: str, seconds: float) -> bool:
        return await self._take(_SQLITE_ACQUIRE, name, holder, seconds)

    async def claim(self, name: str, holder: str, seconds: float) -> bool:
        return await self._take(_SQLITE_CLAIM, name, holder, seconds)

    async def _take(self, sql: str, name: str, holder: str, seconds: float) -> bool:
        now = time.time()
        rows = await self.connection.execute(
            sql,
            {
                "name": f"{self.prefix}:{name}",
                "holder": holder,
                "expires": now + seconds,
                "now": now,
            },
        )
        return bool(list(rows))

    async def release(self, name: str, holder: str) -> None:
        await self.connection.execute(
            "DELETE FROM taskiq_leases WHERE name = ? AND holder = ?",
            (f"{self.prefix}:{name}", holder),
        )

    async def purge_expired(self) -> None:
        await self.connection.execute(
            "DELETE FROM taskiq_leases WHERE expires_at <= ?", (time.time(),)
        )

    async def close(self) -> None:
        await self.connection.close()


def create_leases(settings: Settings) -> Leases:
    """Leases live where results do: the broker's Redis or SQLite file, or
    ``APP_RESULT_BACKEND_URL`` when it is set."""
    url = settings.store_url
    prefix = f"{settings.task_queue}:scheduler"
    scheme = urlsplit(url).scheme
    if urlsplit(settings.broker_url).scheme == "memory" or scheme == "memory":
        raise ValueError(
            "the scheduler needs a broker other processes share: APP_BROKER_URL="
            "memory:// runs tasks inside one process (use sqlite:// or redis://)"
        )
    if scheme == "sqlite":
        return SqliteLeases(
            SqliteConnection(sqlite_path(url), SQLITE_SCHEMA), prefix=prefix
        )
    return RedisLeases(
        url, prefix=prefix, connect_timeout=settings.broker_timeout_seconds
    )
