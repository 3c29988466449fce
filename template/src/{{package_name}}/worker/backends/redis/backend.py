from typing import TYPE_CHECKING, Any

import redis
from taskiq import AsyncBroker, AsyncResultBackend

from ....jobs.events import JobEventLog
from ..interface import QueueCounts
from .broker import (
    CONSUMER_GROUP,
    ReliableRedisStreamBroker,
    dead_letter_key,
    delayed_key,
)
from .events import RedisJobEventLog
from .results import RedisResultBackend

if TYPE_CHECKING:
    from ....settings import Settings


class RedisBackend:
    name = "redis"
    schemes = ("redis", "rediss")
    store_schemes = ("redis", "rediss")
    keeps_results = True

    def create_broker(self, settings: "Settings") -> AsyncBroker:
        return ReliableRedisStreamBroker(
            settings.broker_url,
            queue_name=settings.task_queue,
            idle_timeout_seconds=settings.task_lease_seconds,
            max_deliveries=settings.task_max_deliveries,
            # A Redis that does not answer fails a send within the timeout, and
            # the API answers 503 instead of holding the request.
            socket_connect_timeout=settings.broker_timeout_seconds,
        )

    def create_result_backend(
        self,
        settings: "Settings",
        *,
        job_events: JobEventLog | None = None,
        keep_results: bool = True,
    ) -> AsyncResultBackend[Any]:
        return RedisResultBackend(
            settings.store_url,
            result_ttl_seconds=settings.result_ttl_seconds,
            keep_results=keep_results,
            job_events=job_events,
            socket_connect_timeout=settings.broker_timeout_seconds,
        )

    def create_job_event_log(self, settings: "Settings") -> JobEventLog:
        return RedisJobEventLog(
            settings.store_url,
            prefix=settings.task_queue,
            ttl_seconds=settings.result_ttl_seconds,
            socket_connect_timeout=settings.broker_timeout_seconds,
        )

    def read_queue_counts(self, settings: "Settings") -> QueueCounts:
        """Stream entries the workers' group has not read yet, plus those read
        and not acknowledged (running), plus delayed ones. Acknowledged entries
        stay in the stream until trimmed, so its length alone would overcount."""
        queue = settings.task_queue
        timeout = settings.broker_timeout_seconds
        client = redis.Redis.from_url(
            settings.broker_url, socket_connect_timeout=timeout, socket_timeout=timeout
        )
        with client:
            groups = client.xinfo_groups(queue) if client.exists(queue) else []
            group = next(
                (g for g in groups if g["name"] == CONSUMER_GROUP.encode()), None
            )
            pending = 0 if group is None else group["pending"]
            # No group yet: no worker has read, everything is waiting. Redis
            # cannot tell the lag after entries were cut by a stream ``maxlen``:
            # then the stream's length stands in for it, an upper bound.
            lag = None if group is None else group["lag"]
            waiting = client.xlen(queue) if lag is None else lag
            delayed = client.zcard(delayed_key(queue))
            dead = client.xlen(dead_letter_key(queue))
        return QueueCounts(
            depth=int(waiting) + int(pending) + int(delayed), dead=int(dead)
        )
