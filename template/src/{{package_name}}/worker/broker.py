"""The broker every task is registered on; one instance per process."""

from ..settings import get_settings
from .factory import create_broker
from .fastapi_bridge import bind_fastapi

PACKAGE = __name__.split(".")[0]

broker = create_broker(get_settings())
bind_fastapi(broker, f"{PACKAGE}.app:create_app")
