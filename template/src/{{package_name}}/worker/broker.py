"""The broker every task is registered on, and the log of job events; one
instance of each per process."""

from taskiq import TaskiqEvents, TaskiqState

from ..observability.logs import configure_logging
from ..settings import get_settings
from .factory import create_broker, create_job_event_log
from .fastapi_bridge import bind_fastapi

PACKAGE = __name__.split(".")[0]

settings = get_settings()
job_events = create_job_event_log(settings)
broker = create_broker(settings, job_events)
bind_fastapi(broker, f"{PACKAGE}.app:create_app")


async def _configure_worker_logging(state: TaskiqState) -> None:
    # Worker processes started with "spawn" (taskiq's choice on macOS) or by
    # `taskiq worker` do not inherit the CLI's logging set-up.
    if broker.is_worker_process:
        configure_logging(settings.log_format_in_use, settings.log_level)


broker.add_event_handler(TaskiqEvents.WORKER_STARTUP, _configure_worker_logging)
