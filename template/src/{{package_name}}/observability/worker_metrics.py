"""The workers' metrics port: one HTTP server in the process that supervises
the worker processes, serving the sum of their metrics."""

from prometheus_client import start_http_server

from ..settings import Settings
from .metrics import scrape_registry
from .queue_depth import QueueDepthCollector


class MetricsPortError(Exception):
    """The metrics port could not be opened; the message names the setting."""


def serve_worker_metrics(settings: Settings) -> None:
    """Serve ``/metrics`` on ``APP_WORKER_METRICS_HOST:APP_WORKER_METRICS_PORT``
    from a daemon thread. Call it in multiprocess mode (``metrics.
    multiprocess_directory``) before the worker processes start."""
    host, port = settings.worker_metrics_host, settings.worker_metrics_port
    if port is None:
        return
    registry = scrape_registry(QueueDepthCollector(settings))
    try:
        start_http_server(port, addr=host, registry=registry)
    except OSError as exc:
        message = f"APP_WORKER_METRICS_PORT={port}: cannot listen on {host}: {exc}"
        raise MetricsPortError(message) from exc
