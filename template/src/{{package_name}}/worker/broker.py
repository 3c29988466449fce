"""The broker every task is registered on, and the log of job events; one
instance of each per process."""

from ..settings import get_settings
from .factory import create_broker, create_job_event_log
from .fastapi_bridge import bind_fastapi

PACKAGE = __name__.split(".")[0]

settings = get_settings()
job_events = create_job_event_log(settings)
broker = create_broker(settings, job_events)
bind_fastapi(broker, f"{PACKAGE}.app:create_app")
