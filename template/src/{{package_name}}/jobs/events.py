"""Job events: what a job did, in order, for clients that follow it live.

Workers append ``running``, ``progress``, then ``succeeded`` or ``failed`` to a
per-job log kept beside the broker (Redis streams, or a SQLite table for the
embedded default), so any API process can stream any job, whoever enqueued it.
Event ids increase within a job; a client that reconnects with the last id it
saw gets what it missed and nothing twice.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic_core import to_jsonable_python
from taskiq import TaskiqResult

RUNNING = "running"
PROGRESS = "progress"
SUCCEEDED = "succeeded"
FAILED = "failed"
FINAL_EVENTS = frozenset({SUCCEEDED, FAILED})

# Where a log starts: every event of the job.
START = "0-0"


@dataclass(frozen=True)
class JobEvent:
    id: str  # "<int>-<int>", ordered by event_order()
    name: str
    data: dict[str, Any]


class JobEventLog(Protocol):
    async def append(self, job_id: str, name: str, data: dict[str, Any]) -> None: ...

    async def read(
        self, cursors: Mapping[str, str], wait_seconds: float
    ) -> dict[str, list[JobEvent]]:
        """Events after each job's cursor; waits up to ``wait_seconds`` for one
        when there are none yet (0: answer at once)."""
        ...

    async def close(self) -> None: ...


def event_order(event_id: str) -> tuple[int, int]:
    """Sort key of an event id; ValueError when it is not one."""
    first, _, second = event_id.partition("-")
    return int(first), int(second or 0)


def final_event(result: TaskiqResult[Any]) -> tuple[str, dict[str, Any]]:
    """``succeeded`` with the result, or ``failed`` with the error."""
    if result.is_err:
        error = result.error
        return FAILED, {"error": f"{type(error).__name__}: {error}"}
    return SUCCEEDED, {"result": to_jsonable_python(result.return_value, fallback=str)}
