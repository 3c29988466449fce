"""Fan-out of job events to this process's Server-Sent Event clients.

One reader per process follows every job its clients watch, with one blocking
read (Redis) or one query per poll (SQLite) whatever the number of clients; it
stops when the last client leaves, so no read or subscription outlives them.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from ..jobs.events import JobEvent, JobEventLog, event_order

logger = logging.getLogger(__name__)

RETRY_AFTER_ERROR_SECONDS = 1.0


@dataclass(eq=False)
class Subscription:
    job_id: str
    cursor: str
    queue: asyncio.Queue[JobEvent] = field(default_factory=asyncio.Queue)

    def deliver(self, events: list[JobEvent]) -> None:
        for event in events:
            if event_order(event.id) > event_order(self.cursor):
                self.queue.put_nowait(event)
                self.cursor = event.id


class JobEventHub:
    def __init__(self, log: JobEventLog, *, wait_seconds: float = 0.5) -> None:
        self._log = log
        self._wait_seconds = wait_seconds
        self._subscriptions: set[Subscription] = set()
        self._reader: asyncio.Task[None] | None = None

    @property
    def subscriptions(self) -> int:
        return len(self._subscriptions)

    @property
    def reading(self) -> bool:
        return self._reader is not None and not self._reader.done()

    @contextlib.asynccontextmanager
    async def subscribe(self, job_id: str, after: str) -> AsyncIterator[Subscription]:
        """Events of ``job_id`` after the event id ``after``, history first."""
        subscription = Subscription(job_id, after)
        history = await self._log.read({job_id: after}, wait_seconds=0)
        subscription.deliver(history.get(job_id, []))
        self._subscriptions.add(subscription)
        if not self.reading:
            self._reader = asyncio.create_task(self._read_for_subscribers())
        try:
            yield subscription
        finally:
            self._subscriptions.discard(subscription)
            if not self._subscriptions and self._reader is not None:
                reader, self._reader = self._reader, None
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reader

    async def _read_for_subscribers(self) -> None:
        while self._subscriptions:
            cursors: dict[str, str] = {}
            for subscription in self._subscriptions:
                known = cursors.get(subscription.job_id, subscription.cursor)
                cursors[subscription.job_id] = min(
                    known, subscription.cursor, key=event_order
                )
            try:
                found = await self._log.read(cursors, self._wait_seconds)
            except Exception as exc:
                logger.warning("Could not read job events: %s", exc)
                await asyncio.sleep(RETRY_AFTER_ERROR_SECONDS)
                continue
            for subscription in list(self._subscriptions):
                subscription.deliver(found.get(subscription.job_id, []))
