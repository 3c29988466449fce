"""Build the broker, result backend and job event log named by the settings:
``APP_BROKER_URL`` picks the backend (see ``backends/``), results and job events
live beside its messages or at ``APP_RESULT_BACKEND_URL``."""

from taskiq import AsyncBroker, TaskiqMiddleware

from ..auth.labels import PrincipalLabelMiddleware
from ..jobs.events import JobEventLog
from ..jobs.tracking import JobTrackingMiddleware
from ..observability.task_middlewares import (
    RequestIdLabelMiddleware,
    TaskMetricsMiddleware,
)
from ..settings import Settings
from .backends import broker_backend, store_backend
from .retries import BackoffRetryMiddleware
from .waiting import WokenDecoratedTask


def create_job_event_log(settings: Settings) -> JobEventLog:
    """Job events live beside the results: same Redis, same file."""
    return store_backend(settings.store_url).create_job_event_log(settings)


def create_broker(settings: Settings, job_events: JobEventLog) -> AsyncBroker:
    broker = broker_backend(settings.broker_url).create_broker(settings)
    results = store_backend(settings.store_url).create_result_backend(
        settings, job_events=job_events
    )
    # Tasks whose wait_result() is woken by the result (see waiting.py).
    broker.decorator_class = WokenDecoratedTask
    return broker.with_result_backend(results).with_middlewares(
        *task_middlewares(settings, job_events)
    )


def task_middlewares(
    settings: Settings, job_events: JobEventLog
) -> list[TaskiqMiddleware]:
    """Every task middleware of the service. Order matters: they run in this
    order before a task and in the reverse order after it. The request id is
    in place before anything logs, the principal before the job record names
    its owner; the metrics time the task alone."""
    return [
        RequestIdLabelMiddleware(),
        PrincipalLabelMiddleware(),
        BackoffRetryMiddleware(
            base_delay_seconds=settings.retry_base_delay_seconds,
            max_delay_seconds=settings.retry_max_delay_seconds,
        ),
        JobTrackingMiddleware(job_events),
        TaskMetricsMiddleware(),
    ]
