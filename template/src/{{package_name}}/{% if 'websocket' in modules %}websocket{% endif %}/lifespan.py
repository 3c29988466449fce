from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from .rooms import hub


@asynccontextmanager
async def lifespan() -> AsyncIterator[None]:
    """Close the backplane's connections when the process stops (an open SQLite
    connection's thread would keep it from exiting)."""
    try:
        yield
    finally:
        await hub.close()
