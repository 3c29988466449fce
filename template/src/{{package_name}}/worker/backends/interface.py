"""What every task backend gives the rest of the service.

A backend is a package under ``worker/backends/`` whose ``BACKEND`` object
satisfies :class:`Backend`: the URL schemes it serves and how it builds, from
the settings, a broker, a result backend and a job event log, and how its queue
is counted at scrape time. The broker it builds also satisfies
:class:`ServiceBroker` (a health check, dead letters). The factory, the health
check, the queue-depth metric and the dead-letter command go through these two
and name no backend.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from taskiq import AsyncBroker, AsyncResultBackend

from ...jobs.events import JobEventLog

if TYPE_CHECKING:
    from ...settings import Settings


@dataclass(frozen=True)
class DeadLetter:
    """A message parked instead of run (see ``worker/poison.py``)."""

    id: str
    queue: str
    reason: str
    parked_at: datetime
    data: bytes


@dataclass(frozen=True)
class QueueCounts:
    depth: int  # Waiting, delayed or running: sent and not yet finished.
    dead: int  # Parked as dead letters.


@runtime_checkable
class ServiceBroker(Protocol):
    """What the service asks of a running broker beyond taskiq's ``AsyncBroker``."""

    async def ping(self) -> None:
        """Raise unless the broker's storage answers."""
        ...

    async def dead_letters(self, limit: int = 100) -> list[DeadLetter]: ...

    async def requeue_dead_letter(self, dead_letter_id: str) -> bool:
        """Send a parked message again; ``False`` if there is no such id."""
        ...


class Backend(Protocol):
    name: str
    # The APP_BROKER_URL schemes it serves.
    schemes: tuple[str, ...]
    # The APP_RESULT_BACKEND_URL schemes it serves: where other brokers' task
    # results, job events and modules' shared state may live.
    store_schemes: tuple[str, ...]
    # Its broker keeps results and job events beside its messages; a broker
    # that does not needs APP_RESULT_BACKEND_URL.
    keeps_results: bool

    def create_broker(self, settings: "Settings") -> AsyncBroker:
        """A broker at ``settings.broker_url`` that is a :class:`ServiceBroker`."""
        ...

    def create_result_backend(
        self,
        settings: "Settings",
        *,
        job_events: JobEventLog | None = None,
        keep_results: bool = True,
    ) -> AsyncResultBackend[Any]:
        """Results at ``settings.store_url``, JSON, kept ``result_ttl_seconds``;
        given the job event log (built by this backend), it appends each job's
        ``running`` and final events too (see ``json_results.py``)."""
        ...

    def create_job_event_log(self, settings: "Settings") -> JobEventLog:
        """Job events at ``settings.store_url``."""
        ...

    def read_queue_counts(self, settings: "Settings") -> QueueCounts | None:
        """Blocking (a scrape runs in a thread); ``None``: not counted here."""
        ...
