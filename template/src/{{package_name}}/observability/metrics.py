"""Prometheus metrics of the API and the workers, and how they are exposed.

Several processes (``APP_API_WORKERS``, ``APP_WORKER_PROCESSES``) count into one
set of numbers through prometheus-client's multiprocess mode (see
``multiprocess.py``); a scrape adds up every process's files.
"""

import os
from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import REGISTRY, Collector

from .multiprocess import MULTIPROC_DIR

TASK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)

http_requests = Counter(
    "http_requests",
    "HTTP requests answered, by route template (not raw path) and status",
    ["method", "route", "status"],
)
http_request_duration = Histogram(
    "http_request_duration_seconds",
    "Time from a request's arrival to the end of its response",
    ["method", "route"],
)
tasks_enqueued = Counter("tasks_enqueued", "Tasks sent to the queue", ["task"])
tasks_started = Counter("tasks_started", "Task runs started by workers", ["task"])
tasks_succeeded = Counter("tasks_succeeded", "Task runs that returned", ["task"])
tasks_failed = Counter("tasks_failed", "Task runs that raised", ["task"])
tasks_retried = Counter("tasks_retried", "Failed tasks sent again", ["task"])
task_duration = Histogram(
    "task_duration_seconds",
    "Time a task's function ran, successful or not",
    ["task"],
    buckets=TASK_BUCKETS,
)


def scrape_registry(*collectors: Collector) -> CollectorRegistry:
    """Every process's metrics (or this process's, outside multiprocess mode),
    plus collectors that compute their values at scrape time."""
    registry = CollectorRegistry()
    if os.environ.get(MULTIPROC_DIR):
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(_ProcessRegistry())
    for collector in collectors:
        registry.register(collector)
    return registry


def render(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)


class _ProcessRegistry:
    """This process's default registry, as one collector of another registry."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()
