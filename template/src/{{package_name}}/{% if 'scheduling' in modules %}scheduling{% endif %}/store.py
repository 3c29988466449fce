"""Where schedules created over HTTP live: where results do (the broker's Redis
or SQLite file, or ``APP_RESULT_BACKEND_URL``), so every API process and
scheduler sees them."""

from abc import abstractmethod
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from redis.asyncio import Redis
from taskiq import ScheduledTask, ScheduleSource
from taskiq.serializers import JSONSerializer
from taskiq_redis import ListRedisScheduleSource

from ..settings import Settings
from ..worker.backends.sqlite.connection import SqliteConnection, sqlite_path


class ScheduleStore(ScheduleSource):
    """A schedule source that can also list and remove what it holds."""

    @abstractmethod
    async def list_all(self) -> list[ScheduledTask]:
        """Every stored schedule, due or not."""

    @abstractmethod
    async def remove(self, schedule_id: str) -> bool:
        """Delete one schedule; False when there was none with this id."""

    async def post_send(self, task: ScheduledTask) -> None:
        # A one-off schedule is done once it was sent.
        if task.time is not None:
            await self.delete_schedule(task.schedule_id)


class RedisScheduleStore(ListRedisScheduleSource, ScheduleStore):
    """taskiq-redis's current schedule source, with three changes:

    * JSON instead of its default pickle: whoever can write to Redis must not
      be able to run code in the scheduler;
    * a set of every schedule id, for listing, and for finding one-off
      schedules that fell due while no scheduler ran: upstream SCANs the whole
      keyspace for those on every read (every second here), which takes
      seconds on a Redis that holds much else;
    * closing its connections on shutdown.
    """

    def __init__(self, url: str, *, prefix: str, **connection: Any) -> None:
        super().__init__(url, prefix=prefix, serializer=JSONSerializer(), **connection)
        self._index_key = f"{prefix}:index"

    async def add_schedule(self, schedule: ScheduledTask) -> None:
        if schedule.cron is not None:
            timetable = self._get_cron_key()
        elif schedule.time is not None:
            timetable = self._get_time_key(schedule.time)
        else:
            timetable = self._get_interval_key()
        data = self._serializer.dumpb(schedule.model_dump(mode="json"))
        async with (
            Redis(connection_pool=self._connection_pool) as redis,
            redis.pipeline(transaction=True) as pipeline,
        ):
            pipeline.set(self._get_data_key(schedule.schedule_id), data)
            pipeline.rpush(timetable, schedule.schedule_id)
            pipeline.sadd(self._index_key, schedule.schedule_id)
            await pipeline.execute()

    async def delete_schedule(self, schedule_id: str) -> None:
        await super().delete_schedule(schedule_id)
        async with Redis(connection_pool=self._connection_pool) as redis:
            await redis.srem(self._index_key, schedule_id)

    async def list_all(self) -> list[ScheduledTask]:
        async with Redis(connection_pool=self._connection_pool) as redis:
            members = await redis.smembers(self._index_key)
            ids = sorted(m.decode() if isinstance(m, bytes) else m for m in members)
            keys = [self._get_data_key(i) for i in ids]
            values = await redis.mget(keys) if keys else []
        return [
            ScheduledTask.model_validate(self._serializer.loadb(value))
            for value in values
            if isinstance(value, bytes)  # the pool does not decode responses
        ]

    async def _get_previous_time_schedules(self) -> list[bytes]:
        """One-off schedules due before the current minute and not yet sent."""
        minute = datetime.now(UTC).replace(second=0, microsecond=0)
        return [
            schedule.schedule_id.encode()
            for schedule in await self.list_all()
            if schedule.time is not None and _as_utc(schedule.time) < minute
        ]

    async def remove(self, schedule_id: str) -> bool:
        async with Redis(connection_pool=self._connection_pool) as redis:
            exists = await redis.exists(self._get_data_key(schedule_id))
        await self.delete_schedule(schedule_id)
        return bool(exists)

    async def shutdown(self) -> None:
        await self._connection_pool.disconnect()


def _as_utc(moment: datetime) -> datetime:
    """taskiq reads a time without a zone as UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS taskiq_schedules (
    queue TEXT NOT NULL,
    schedule_id TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (queue, schedule_id)
);
"""


class SqliteScheduleStore(ScheduleStore):
    """Schedules as JSON rows in the embedded broker's file."""

    def __init__(self, connection: SqliteConnection, *, queue: str) -> None:
        self.connection = connection
        self.queue = queue

    async def get_schedules(self) -> list[ScheduledTask]:
        return await self.list_all()

    async def list_all(self) -> list[ScheduledTask]:
        rows = await self.connection.execute(
            "SELECT data FROM taskiq_schedules WHERE queue = ? ORDER BY rowid",
            (self.queue,),
        )
        return [ScheduledTask.model_validate_json(data) for (data,) in rows]

    async def add_schedule(self, schedule: ScheduledTask) -> None:
        await self.connection.execute(
            "INSERT OR REPLACE INTO taskiq_schedules (queue, schedule_id, data) "
            "VALUES (?, ?, ?)",
            (self.queue, schedule.schedule_id, schedule.model_dump_json()),
        )

    async def delete_schedule(self, schedule_id: str) -> None:
        await self.remove(schedule_id)

    async def remove(self, schedule_id: str) -> bool:
        rows = await self.connection.execute(
            "DELETE FROM taskiq_schedules WHERE queue = ? AND schedule_id = ? "
            "RETURNING schedule_id",
            (self.queue, schedule_id),
        )
        return bool(list(rows))

    async def shutdown(self) -> None:
        await self.connection.close()


class MemoryScheduleStore(ScheduleStore):
    """For tests on the in-process broker: nothing is shared or kept."""

    def __init__(self) -> None:
        self.schedules: dict[str, ScheduledTask] = {}

    async def get_schedules(self) -> list[ScheduledTask]:
        return list(self.schedules.values())

    async def list_all(self) -> list[ScheduledTask]:
        return list(self.schedules.values())

    async def add_schedule(self, schedule: ScheduledTask) -> None:
        self.schedules[schedule.schedule_id] = schedule

    async def delete_schedule(self, schedule_id: str) -> None:
        self.schedules.pop(schedule_id, None)

    async def remove(self, schedule_id: str) -> bool:
        return self.schedules.pop(schedule_id, None) is not None


def create_schedule_store(settings: Settings) -> ScheduleStore:
    scheme = urlsplit(settings.store_url).scheme
    if scheme == "memory":
        return MemoryScheduleStore()
    if scheme == "sqlite":
        connection = SqliteConnection(sqlite_path(settings.store_url), SQLITE_SCHEMA)
        return SqliteScheduleStore(connection, queue=settings.task_queue)
    return RedisScheduleStore(
        settings.store_url,
        prefix=f"{settings.task_queue}:schedules",
        socket_connect_timeout=settings.broker_timeout_seconds,
    )
