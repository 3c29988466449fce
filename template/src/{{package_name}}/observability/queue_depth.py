"""Queue depth and dead letters, read from the broker's storage at scrape time.

Synchronous clients on purpose: a scrape runs in the metrics server's thread
(workers) or in a thread of the API (``GET /metrics``), never on an event loop.
"""

import logging
import sqlite3
from collections.abc import Iterable
from urllib.parse import urlsplit

from prometheus_client.metrics_core import GaugeMetricFamily, Metric

from ..settings import Settings

logger = logging.getLogger(__name__)

# Brokers whose storage this reads. Others (the in-memory broker of tests, and
# brokers with their own exporter) report no depth here.
READABLE_SCHEMES = ("sqlite", "redis", "rediss")
DEPTH_HELP = "Tasks waiting, delayed or running (sent and not yet finished)"
DEAD_HELP = "Messages parked as dead letters (see the dead-letters command)"


class QueueDepthCollector:
    """``task_queue_depth`` and ``task_dead_letters`` of the service's queue.

    A broker that does not answer leaves both out of the scrape (and logs why)
    rather than failing the scrape: the other metrics matter most then.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.scheme = urlsplit(settings.broker_url).scheme

    def collect(self) -> Iterable[Metric]:
        if self.scheme not in READABLE_SCHEMES:
            return []
        try:
            depth, dead = self._read()
        except Exception as exc:
            logger.warning("Could not read the queue depth: %s", exc)
            return []
        queue = self.settings.task_queue
        depth_metric = GaugeMetricFamily(
            "task_queue_depth", DEPTH_HELP, labels=["queue"]
        )
        depth_metric.add_metric([queue], depth)
        dead_metric = GaugeMetricFamily(
            "task_dead_letters", DEAD_HELP, labels=["queue"]
        )
        dead_metric.add_metric([queue], dead)
        return [depth_metric, dead_metric]

    def _read(self) -> tuple[int, int]:
        if self.scheme == "sqlite":
            return _sqlite_counts(self.settings)
        return _redis_counts(self.settings)


def _sqlite_counts(settings: Settings) -> tuple[int, int]:
    from ..worker.factory import sqlite_path

    path = sqlite_path(settings.broker_url)
    if not path.exists():
        return 0, 0  # Nothing was ever sent.
    # Read-only: a scrape never creates the file or takes a write lock.
    uri = f"{path.resolve().as_uri()}?mode=ro"
    with sqlite3.connect(uri, uri=True, timeout=1.0) as database:
        try:
            depth = database.execute(
                "SELECT count(*) FROM taskiq_messages WHERE queue = ?",
                (settings.task_queue,),
            ).fetchone()[0]
            dead = database.execute(
                "SELECT count(*) FROM taskiq_dead_letters WHERE queue = ?",
                (settings.task_queue,),
            ).fetchone()[0]
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return 0, 0  # No broker has started on this file yet.
            raise
    return int(depth), int(dead)


def _redis_counts(settings: Settings) -> tuple[int, int]:
    """Stream entries the workers' group has not read yet, plus those read and
    not acknowledged (running), plus delayed ones. Acknowledged entries stay in
    the stream until trimmed, so its length alone would overcount."""
    import redis

    from ..worker.redis_broker import CONSUMER_GROUP, dead_letter_key, delayed_key

    queue = settings.task_queue
    timeout = settings.broker_timeout_seconds
    client = redis.Redis.from_url(
        settings.broker_url, socket_connect_timeout=timeout, socket_timeout=timeout
    )
    with client:
        groups = client.xinfo_groups(queue) if client.exists(queue) else []
        group = next((g for g in groups if g["name"] == CONSUMER_GROUP.encode()), None)
        pending = 0 if group is None else group["pending"]
        # No group yet: no worker has read, everything is waiting. Redis cannot
        # tell the lag after entries were cut by a stream ``maxlen``: then the
        # stream's length stands in for it, an upper bound.
        lag = None if group is None else group["lag"]
        waiting = client.xlen(queue) if lag is None else lag
        delayed = client.zcard(delayed_key(queue))
        dead = client.xlen(dead_letter_key(queue))
    return int(waiting) + int(pending) + int(delayed), int(dead)
