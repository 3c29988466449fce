"""Results kept in the process, as JSON like every other backend's, so that a
test sees a result that would not survive a real result backend fail here too."""

import time
from collections import OrderedDict
from typing import TypeVar

from ....jobs.events import JobEventLog
from ..json_results import Field, JsonResultBackend

ReturnType = TypeVar("ReturnType")


class MemoryResultBackend(JsonResultBackend[ReturnType]):
    def __init__(
        self,
        *,
        result_ttl_seconds: int,
        keep_results: bool = True,
        job_events: JobEventLog | None = None,
        max_stored: int = 10_000,
    ) -> None:
        super().__init__(
            result_ttl_seconds=result_ttl_seconds,
            keep_results=keep_results,
            job_events=job_events,
        )
        self.max_stored = max_stored
        # (task id, field) -> (expiry on the monotonic clock, value)
        self._values: OrderedDict[tuple[str, Field], tuple[float, bytes]] = (
            OrderedDict()
        )

    async def write(self, task_id: str, field: Field, value: bytes) -> None:
        self._values.pop((task_id, field), None)
        self._values[(task_id, field)] = (
            time.monotonic() + self.result_ttl_seconds,
            value,
        )
        while len(self._values) > self.max_stored:
            self._values.popitem(last=False)

    async def read(self, task_id: str, field: Field, *, take: bool) -> bytes | None:
        stored = self._values.get((task_id, field))
        if stored is None or stored[0] <= time.monotonic():
            return None
        if take:
            del self._values[(task_id, field)]
        return stored[1]

    async def has_result(self, task_id: str) -> bool:
        return await self.read(task_id, "result", take=False) is not None
