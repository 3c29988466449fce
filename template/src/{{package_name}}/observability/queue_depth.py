"""Queue depth and dead letters, read from the broker's storage at scrape time.

Synchronous clients on purpose: a scrape runs in the metrics server's thread
(workers) or in a thread of the API (``GET /metrics``), never on an event loop.
"""

import logging
from collections.abc import Iterable

from prometheus_client.metrics_core import GaugeMetricFamily, Metric

from ..settings import Settings
from ..worker.backends import broker_backend

logger = logging.getLogger(__name__)

DEPTH_HELP = "Tasks waiting, delayed or running (sent and not yet finished)"
DEAD_HELP = "Messages parked as dead letters (see the dead-letters command)"


class QueueDepthCollector:
    """``task_queue_depth`` and ``task_dead_letters`` of the service's queue.

    A broker that does not answer leaves both out of the scrape (and logs why)
    rather than failing the scrape: the other metrics matter most then.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.backend = broker_backend(settings.broker_url)

    def collect(self) -> Iterable[Metric]:
        try:
            counts = self.backend.read_queue_counts(self.settings)
        except Exception as exc:
            logger.warning("Could not read the queue depth: %s", exc)
            return []
        if counts is None:  # A backend without a queue, or with its own exporter.
            return []
        queue = self.settings.task_queue
        depth_metric = GaugeMetricFamily(
            "task_queue_depth", DEPTH_HELP, labels=["queue"]
        )
        depth_metric.add_metric([queue], counts.depth)
        dead_metric = GaugeMetricFamily(
            "task_dead_letters", DEAD_HELP, labels=["queue"]
        )
        dead_metric.add_metric([queue], counts.dead)
        return [depth_metric, dead_metric]
