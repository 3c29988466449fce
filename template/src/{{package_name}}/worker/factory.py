"""Build the broker and result backend named by ``APP_BROKER_URL``."""

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from taskiq import AsyncBroker, AsyncResultBackend, InMemoryBroker

from ..auth.labels import PrincipalLabelMiddleware
from ..discovery import optional_brokers
from ..jobs.events import JobEventLog, MemoryJobEventLog
from ..jobs.tracking import JobTrackingMiddleware
from ..observability.task_middlewares import (
    RequestIdLabelMiddleware,
    TaskMetricsMiddleware,
)
from ..settings import BROKER_SCHEMES, Settings
from .redis_broker import ReliableRedisStreamBroker, redis_result_backend
from .redis_events import RedisJobEventLog
from .retries import BackoffRetryMiddleware
from .sqlite_broker import SqliteBroker
from .sqlite_events import SqliteJobEventLog
from .sqlite_results import SqliteResultBackend


def create_job_event_log(settings: Settings) -> JobEventLog:
    """Job events live beside the results: same Redis, same file."""
    url = settings.store_url
    scheme = urlsplit(url).scheme
    if scheme == "memory":
        return MemoryJobEventLog()
    if scheme == "sqlite":
        return SqliteJobEventLog(
            sqlite_path(url), ttl_seconds=settings.result_ttl_seconds
        )
    return RedisJobEventLog(
        url,
        prefix=settings.task_queue,
        ttl_seconds=settings.result_ttl_seconds,
        socket_connect_timeout=settings.broker_timeout_seconds,
    )


def create_broker(settings: Settings, job_events: JobEventLog) -> AsyncBroker:
    url = settings.broker_url
    scheme = urlsplit(url).scheme
    broker: AsyncBroker
    if scheme == "memory":
        # Tests only: tasks run inside the calling process.
        broker = InMemoryBroker()
    elif scheme == "sqlite":
        path = sqlite_path(url)
        broker = SqliteBroker(
            path,
            queue_name=settings.task_queue,
            lease_seconds=settings.task_lease_seconds,
            max_deliveries=settings.task_max_deliveries,
            claim_batch=min(8, settings.worker_concurrency),
        ).with_result_backend(create_result_backend(settings))
    elif scheme not in BROKER_SCHEMES:
        # A broker chosen when the service was generated builds itself in its
        # own module (see discovery.optional_brokers).
        module = optional_brokers()[scheme]
        build: Callable[[Settings], AsyncBroker] = module.broker_from_settings
        broker = build(settings).with_result_backend(create_result_backend(settings))
    else:
        # A Redis that does not answer fails a send within the timeout, and the
        # API answers 503 instead of holding the request.
        connect_timeout = settings.broker_timeout_seconds
        broker = ReliableRedisStreamBroker(
            url,
            queue_name=settings.task_queue,
            idle_timeout_seconds=settings.task_lease_seconds,
            max_deliveries=settings.task_max_deliveries,
            socket_connect_timeout=connect_timeout,
        ).with_result_backend(create_result_backend(settings))
    # Order matters: middlewares run in this order before a task and in the
    # reverse order after it. The request id is in place before anything logs,
    # the principal before the job record names its owner; the metrics time
    # the task alone.
    return broker.with_middlewares(
        RequestIdLabelMiddleware(),
        PrincipalLabelMiddleware(),
        BackoffRetryMiddleware(
            base_delay_seconds=settings.retry_base_delay_seconds,
            max_delay_seconds=settings.retry_max_delay_seconds,
        ),
        JobTrackingMiddleware(job_events),
        TaskMetricsMiddleware(),
    )


def create_result_backend(settings: Settings) -> AsyncResultBackend[Any]:
    """Results beside the broker's messages, or at ``APP_RESULT_BACKEND_URL``."""
    url = settings.store_url
    if urlsplit(url).scheme == "sqlite":
        return SqliteResultBackend(
            sqlite_path(url), result_ttl_seconds=settings.result_ttl_seconds
        )
    return redis_result_backend(
        url,
        result_ttl_seconds=settings.result_ttl_seconds,
        socket_connect_timeout=settings.broker_timeout_seconds,
    )


def sqlite_path(url: str) -> Path:
    """``sqlite:///var/b.db`` is relative, ``sqlite:////srv/b.db`` absolute."""
    path = url.removeprefix("sqlite://").removeprefix("/")
    if not path:
        raise ValueError(f"{url!r} names no file: use sqlite:///path/to/broker.db")
    return Path(path if not url.startswith("sqlite:////") else "/" + path)
