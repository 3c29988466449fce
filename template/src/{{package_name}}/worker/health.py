from taskiq import AsyncBroker, InMemoryBroker

from .redis_broker import ReliableRedisStreamBroker
from .sqlite_broker import SqliteBroker


async def check_broker(broker: AsyncBroker) -> None:
    """Raise if the broker's storage does not answer."""
    if isinstance(broker, SqliteBroker | ReliableRedisStreamBroker):
        await broker.ping()
    elif not isinstance(broker, InMemoryBroker):
        raise TypeError(f"no health check for {type(broker).__name__}")
