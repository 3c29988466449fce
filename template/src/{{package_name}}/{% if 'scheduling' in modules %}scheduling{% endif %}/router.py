import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, HTTPException, Response, status
from redis.exceptions import RedisError
from taskiq import ScheduledTask

from ..deps import SettingsDep
from ..discovery import import_feature_modules
from ..jobs.enqueue import QueueUnavailableError
from ..openapi import NOT_SIGNED_IN
from ..settings import Settings
from ..worker.broker import broker
from .deps import ManagesSchedules, ScheduleStoreDep
from .scheduler import StableLabelScheduleSource
from .schemas import ScheduleIn, ScheduleOut

router = APIRouter(
    prefix="/schedules",
    tags=["scheduling"],
    dependencies=[ManagesSchedules],
    responses={
        **NOT_SIGNED_IN,
        403: {"description": "Needs the schedules scope or the admin role"},
    },
)


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_schedule(
    body: ScheduleIn, store: ScheduleStoreDep, settings: SettingsDep
) -> ScheduleOut:
    """Sent by the scheduler from the next second on; a one-off runs once."""
    schedule = body.to_scheduled_task()
    async with _store_available(settings):
        await store.add_schedule(schedule)
    return ScheduleOut.of(schedule, "api")


@router.get("")
async def list_schedules(
    store: ScheduleStoreDep, settings: SettingsDep
) -> list[ScheduleOut]:
    async with _store_available(settings):
        stored = await store.list_all()
    return [ScheduleOut.of(s, "code") for s in await code_schedules()] + [
        ScheduleOut.of(s, "api") for s in stored
    ]


@router.delete("/{schedule_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_schedule(
    schedule_id: str, store: ScheduleStoreDep, settings: SettingsDep
) -> Response:
    if any(s.schedule_id == schedule_id for s in await code_schedules()):
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"schedule {schedule_id!r} is declared in code (a task's schedule "
            "label): remove it there",
        )
    async with _store_available(settings):
        removed = await store.remove(schedule_id)
    if not removed:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "schedule not found")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


async def code_schedules() -> list[ScheduledTask]:
    import_feature_modules("tasks")  # registers every task and its labels
    source = StableLabelScheduleSource(broker)
    await source.startup()
    return await source.get_schedules()


@asynccontextmanager
async def _store_available(settings: Settings) -> AsyncIterator[None]:
    """A schedule store that fails or hangs answers 503, as the queue does."""
    timeout = settings.broker_timeout_seconds
    try:
        async with asyncio.timeout(timeout):
            yield
    except TimeoutError as exc:
        message = f"the schedule store did not answer within {timeout} s"
        raise QueueUnavailableError(message) from exc
    except (OSError, RedisError, sqlite3.Error) as exc:
        message = f"the schedule store failed: {type(exc).__name__}: {exc}"
        raise QueueUnavailableError(message) from exc
