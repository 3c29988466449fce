from typing import TYPE_CHECKING, Any

from taskiq import AsyncBroker, AsyncResultBackend, InMemoryBroker

from ....jobs.events import JobEventLog
from ..interface import DeadLetter, QueueCounts
from .events import MemoryJobEventLog
from .results import MemoryResultBackend

if TYPE_CHECKING:
    from ....settings import Settings


class MemoryBroker(InMemoryBroker):
    """taskiq's in-memory broker: nothing to ping, nothing ever parked."""

    async def ping(self) -> None:
        return None

    async def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        return []

    async def requeue_dead_letter(self, dead_letter_id: str) -> bool:
        return False


class MemoryBackend:
    name = "memory"
    schemes = ("memory",)
    # In-process only: no other process could read results kept here.
    store_schemes: tuple[str, ...] = ()
    keeps_results = True

    def create_broker(self, settings: "Settings") -> AsyncBroker:
        return MemoryBroker()

    def create_result_backend(
        self,
        settings: "Settings",
        *,
        job_events: JobEventLog | None = None,
        keep_results: bool = True,
    ) -> AsyncResultBackend[Any]:
        return MemoryResultBackend(
            result_ttl_seconds=settings.result_ttl_seconds,
            keep_results=keep_results,
            job_events=job_events,
        )

    def create_job_event_log(self, settings: "Settings") -> JobEventLog:
        return MemoryJobEventLog()

    def read_queue_counts(self, settings: "Settings") -> QueueCounts | None:
        return None  # Tasks run as they are sent: there is no queue to count.
