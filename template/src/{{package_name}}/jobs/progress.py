"""Progress a task reports while it runs: ``GET /jobs/{id}`` shows the latest,
and clients following the job live receive each report as an event."""

from typing import Any

from taskiq import Context
from taskiq.depends.progress_tracker import TaskState

from .events import PROGRESS, JobEventLog
from .tracking import job_record


class JobProgress:
    def __init__(self, context: Context, events: JobEventLog) -> None:
        self._context = context
        self._events = events

    async def report(self, **progress: Any) -> None:
        """E.g. ``await progress.report(done=400, total=1000)`` (JSON values)."""
        message = self._context.message
        task_id = message.task_id
        await self._context.broker.result_backend.set_progress(
            task_id, job_record(message, TaskState.STARTED, progress)
        )
        await self._events.append(task_id, PROGRESS, progress)
