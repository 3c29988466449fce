"""Job events kept in the process: the in-memory broker of tests."""

import asyncio
from collections.abc import Mapping
from typing import Any

from ....jobs.events import JobEvent, event_order


class MemoryJobEventLog:
    """In-process log: tests, and the in-memory broker."""

    def __init__(self) -> None:
        self._events: dict[str, list[JobEvent]] = {}
        self._next_id = 1
        self._condition: asyncio.Condition | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def append(self, job_id: str, name: str, data: dict[str, Any]) -> None:
        changed = self._changed()
        async with changed:
            event = JobEvent(f"{self._next_id}-0", name, data)
            self._next_id += 1
            self._events.setdefault(job_id, []).append(event)
            changed.notify_all()

    async def read(
        self, cursors: Mapping[str, str], wait_seconds: float
    ) -> dict[str, list[JobEvent]]:
        changed = self._changed()
        async with changed:
            found = self._after(cursors)
            if not found and wait_seconds > 0:
                try:
                    async with asyncio.timeout(wait_seconds):
                        await changed.wait_for(lambda: bool(self._after(cursors)))
                except TimeoutError:
                    return {}
                found = self._after(cursors)
            return found

    def _changed(self) -> asyncio.Condition:
        # A condition belongs to one event loop; tests run one loop per test.
        loop = asyncio.get_running_loop()
        if self._condition is None or self._loop is not loop:
            self._condition, self._loop = asyncio.Condition(), loop
        return self._condition

    async def close(self) -> None:
        return None

    def _after(self, cursors: Mapping[str, str]) -> dict[str, list[JobEvent]]:
        found = {}
        for job_id, cursor in cursors.items():
            after = event_order(cursor)
            events = [
                e for e in self._events.get(job_id, []) if event_order(e.id) > after
            ]
            if events:
                found[job_id] = events
        return found
