from typing import Protocol, runtime_checkable

from taskiq import AsyncBroker, InMemoryBroker


@runtime_checkable
class Pingable(Protocol):
    async def ping(self) -> None: ...


async def check_broker(broker: AsyncBroker) -> None:
    """Raise if the broker's storage does not answer."""
    if isinstance(broker, Pingable):
        await broker.ping()
    elif not isinstance(broker, InMemoryBroker):
        raise TypeError(f"no health check for {type(broker).__name__}")
