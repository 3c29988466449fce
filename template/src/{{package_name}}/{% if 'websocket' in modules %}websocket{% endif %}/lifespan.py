from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from .rooms import hub
from .settings import get_websocket_settings


@asynccontextmanager
async def lifespan() -> AsyncIterator[None]:
    """Close the backplane's connections when the process stops (an open SQLite
    connection's thread would keep it from exiting)."""
    # Read now: a bad setting stops the start, not a first join.
    get_websocket_settings()
    try:
        yield
    finally:
        await hub.close()
