import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from ..worker.broker import broker
from .deps import schedule_store
from .settings import get_scheduling_settings

logger = logging.getLogger(__name__)


@asynccontextmanager
async def lifespan() -> AsyncIterator[None]:
    # Once, from the API processes that serve /schedules: not from every worker.
    if (
        not broker.is_worker_process
        and get_scheduling_settings().schedules_api_token is None
    ):
        logger.warning(
            "APP_SCHEDULES_API_TOKEN is unset: anyone who reaches the API can "
            "manage /schedules (refused in production)"
        )
    try:
        yield
    finally:
        await schedule_store.shutdown()
