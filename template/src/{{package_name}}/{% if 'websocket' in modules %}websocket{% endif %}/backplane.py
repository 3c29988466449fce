"""The backplane carries room frames between processes: every API process
receives what any process (API or worker) publishes to a room it has members in.

Chosen with the results (``APP_RESULT_BACKEND_URL``, by default the broker):
Redis pub/sub beside a Redis broker; a table in the SQLite file beside the
embedded broker (processes of one host); in-process with the in-memory broker
(tests).
"""

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Protocol
from urllib.parse import urlsplit

from redis.asyncio import Redis

from ..settings import Settings
from ..worker.backends.sqlite.connection import SqliteConnection, sqlite_path

POLL_INTERVAL_SECONDS = 0.05
# Frames are live traffic, not a history: the SQLite table keeps a minute.
SQLITE_RETENTION_SECONDS = 60.0


class Backplane(Protocol):
    async def publish(self, room: str, frame: str) -> None: ...

    async def subscribe(self, room: str) -> None: ...

    async def unsubscribe(self, room: str) -> None: ...

    def frames(self) -> AsyncIterator[tuple[str, str]]:
        """(room, frame) for every frame published to a subscribed room."""
        ...

    async def close(self) -> None: ...


class MemoryBackplane:
    def __init__(self) -> None:
        self._rooms: set[str] = set()
        self._queue: asyncio.Queue[tuple[str, str]] | None = None

    async def publish(self, room: str, frame: str) -> None:
        if room in self._rooms:
            self._frames_queue().put_nowait((room, frame))

    async def subscribe(self, room: str) -> None:
        self._rooms.add(room)

    async def unsubscribe(self, room: str) -> None:
        self._rooms.discard(room)

    async def frames(self) -> AsyncIterator[tuple[str, str]]:
        while True:
            yield await self._frames_queue().get()

    async def close(self) -> None:
        self._queue = None

    def _frames_queue(self) -> asyncio.Queue[tuple[str, str]]:
        if self._queue is None:
            self._queue = asyncio.Queue()
        return self._queue


class RedisBackplane:
    """One pub/sub connection per process, subscribed to the rooms it serves."""

    def __init__(self, url: str, *, prefix: str) -> None:
        self.redis = Redis.from_url(url)
        self.prefix = f"{prefix}:room:"
        self._pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        self._subscribed = asyncio.Event()

    async def publish(self, room: str, frame: str) -> None:
        await self.redis.publish(self.prefix + room, frame)

    async def subscribe(self, room: str) -> None:
        await self._pubsub.subscribe(self.prefix + room)
        self._subscribed.set()

    async def unsubscribe(self, room: str) -> None:
        await self._pubsub.unsubscribe(self.prefix + room)

    async def frames(self) -> AsyncIterator[tuple[str, str]]:
        while True:
            if not self._pubsub.subscribed:
                self._subscribed.clear()
                await self._subscribed.wait()
            message = await self._pubsub.get_message(timeout=1.0)
            if message is not None and message["type"] == "message":
                channel = message["channel"].decode()
                yield channel.removeprefix(self.prefix), message["data"].decode()

    async def close(self) -> None:
        await self._pubsub.aclose()  # type: ignore[no-untyped-call]
        await self.redis.aclose()


class SqliteBackplane:
    """Frames in a table of the SQLite broker file, read by one poller per
    process for all the rooms it serves."""

    SCHEMA = """
    CREATE TABLE IF NOT EXISTS room_frames (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        room TEXT NOT NULL,
        frame TEXT NOT NULL,
        created_at REAL NOT NULL
    );
    CREATE INDEX IF NOT EXISTS ix_room_frames_room_id ON room_frames (room, id);
    """

    def __init__(self, path: str) -> None:
        self.database = SqliteConnection(sqlite_path(path), self.SCHEMA)
        self._rooms: set[str] = set()
        self._next_purge = 0.0

    async def publish(self, room: str, frame: str) -> None:
        now = time.time()
        await self.database.execute(
            "INSERT INTO room_frames (room, frame, created_at) VALUES (?, ?, ?)",
            (room, frame, now),
        )
        if now >= self._next_purge:
            self._next_purge = now + SQLITE_RETENTION_SECONDS
            await self.database.execute(
                "DELETE FROM room_frames WHERE created_at < ?",
                (now - SQLITE_RETENTION_SECONDS,),
            )

    async def subscribe(self, room: str) -> None:
        self._rooms.add(room)

    async def unsubscribe(self, room: str) -> None:
        self._rooms.discard(room)

    async def frames(self) -> AsyncIterator[tuple[str, str]]:
        rows = await self.database.execute(
            "SELECT coalesce(max(id), 0) FROM room_frames"
        )
        (last,) = next(iter(rows))
        while True:
            await asyncio.sleep(POLL_INTERVAL_SECONDS)
            if not self._rooms:
                continue
            rows = await self.database.execute(
                "SELECT id, room, frame FROM room_frames WHERE id > ? "
                "AND room IN (SELECT value FROM json_each(?)) ORDER BY id",
                (last, json.dumps(sorted(self._rooms))),
            )
            for row_id, room, frame in rows:
                last = max(last, row_id)
                yield room, frame

    async def close(self) -> None:
        await self.database.close()


def create_backplane(settings: Settings) -> Backplane:
    url = settings.store_url
    scheme = urlsplit(url).scheme
    if scheme == "memory":
        return MemoryBackplane()
    if scheme == "sqlite":
        return SqliteBackplane(url)
    return RedisBackplane(url, prefix=settings.task_queue)
