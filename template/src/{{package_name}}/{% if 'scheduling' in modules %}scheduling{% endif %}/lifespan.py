from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from .deps import schedule_store


@asynccontextmanager
async def lifespan() -> AsyncIterator[None]:
    try:
        yield
    finally:
        await schedule_store.shutdown()
