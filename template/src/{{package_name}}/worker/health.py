from taskiq import AsyncBroker

from .backends.interface import ServiceBroker


async def check_broker(broker: AsyncBroker) -> None:
    """Raise if the broker's storage does not answer."""
    if not isinstance(broker, ServiceBroker):
        raise TypeError(f"no health check for {type(broker).__name__}")
    await broker.ping()
