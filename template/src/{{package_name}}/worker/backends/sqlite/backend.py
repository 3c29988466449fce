import sqlite3
from contextlib import closing
from typing import TYPE_CHECKING, Any

from taskiq import AsyncBroker, AsyncResultBackend

from ....jobs.events import JobEventLog
from ..interface import QueueCounts
from .broker import SqliteBroker
from .connection import sqlite_path
from .events import SqliteJobEventLog
from .results import SqliteResultBackend

if TYPE_CHECKING:
    from ....settings import Settings


class SqliteBackend:
    name = "sqlite"
    schemes = ("sqlite",)
    store_schemes = ("sqlite",)
    keeps_results = True

    def create_broker(self, settings: "Settings") -> AsyncBroker:
        return SqliteBroker(
            sqlite_path(settings.broker_url),
            queue_name=settings.task_queue,
            lease_seconds=settings.task_lease_seconds,
            max_deliveries=settings.task_max_deliveries,
            claim_batch=min(8, settings.worker_concurrency),
        )

    def create_result_backend(
        self,
        settings: "Settings",
        *,
        job_events: JobEventLog | None = None,
        keep_results: bool = True,
    ) -> AsyncResultBackend[Any]:
        return SqliteResultBackend(
            sqlite_path(settings.store_url),
            result_ttl_seconds=settings.result_ttl_seconds,
            keep_results=keep_results,
            job_events=job_events,
        )

    def create_job_event_log(self, settings: "Settings") -> JobEventLog:
        return SqliteJobEventLog(
            sqlite_path(settings.store_url), ttl_seconds=settings.result_ttl_seconds
        )

    def read_queue_counts(self, settings: "Settings") -> QueueCounts:
        path = sqlite_path(settings.broker_url)
        if not path.exists():
            return QueueCounts(depth=0, dead=0)  # Nothing was ever sent.
        # Read-only: a scrape never creates the file or takes a write lock.
        uri = f"{path.resolve().as_uri()}?mode=ro"
        with closing(sqlite3.connect(uri, uri=True, timeout=1.0)) as database:
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
                    # No broker has started on this file yet.
                    return QueueCounts(depth=0, dead=0)
                raise
        return QueueCounts(depth=int(depth), dead=int(dead))
