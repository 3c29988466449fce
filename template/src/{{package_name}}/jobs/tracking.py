"""Records a job's state next to its result, and its events for live clients."""

import logging
from typing import Any

from pydantic_core import to_jsonable_python
from taskiq import TaskiqMessage, TaskiqMiddleware, TaskiqResult
from taskiq.depends.progress_tracker import TaskProgress, TaskState
from taskiq.exceptions import SendTaskError

from ..auth.labels import owner_of
from .events import FAILED, RUNNING, SUCCEEDED, JobEventLog

logger = logging.getLogger(__name__)

# taskiq's TaskState has no "queued": the state between send and start is ours.
QUEUED = "QUEUED"


def job_record(
    message: TaskiqMessage, state: str, progress: Any = None
) -> TaskProgress[dict[str, Any]]:
    """What the result backend keeps of a job until its result: its state,
    whose it is (``GET /jobs/{id}`` answers only them) and the latest
    progress its task reported."""
    return TaskProgress[dict[str, Any]](
        state=state, meta={"owner": owner_of(message.labels), "progress": progress}
    )


class JobTrackingMiddleware(TaskiqMiddleware):
    """Writes a progress record at send and at start, so that a job id is
    known (and reported ``queued``) from the moment it is returned to a client;
    appends ``running`` and then ``succeeded`` or ``failed`` to the job's events."""

    def __init__(self, events: JobEventLog) -> None:
        super().__init__()
        self.events = events

    async def shutdown(self) -> None:
        # The broker's shutdown (API lifespan, worker exit) closes the log: an
        # open SQLite connection's thread would keep the process from exiting.
        await self.events.close()

    async def pre_send(self, message: TaskiqMessage) -> TaskiqMessage:
        try:
            await self.broker.result_backend.set_progress(
                message.task_id, job_record(message, QUEUED)
            )
        except Exception as exc:
            # The result backend is the broker's storage (or beside it): a
            # failure here means the task cannot be sent either.
            raise SendTaskError from exc
        return message

    async def pre_execute(self, message: TaskiqMessage) -> TaskiqMessage:
        # The task matters more than its status: a failure to record it (during
        # a Redis outage, say) is logged, never raised, which would drop the task.
        try:
            await self.broker.result_backend.set_progress(
                message.task_id, job_record(message, TaskState.STARTED)
            )
            await self.events.append(message.task_id, RUNNING, {})
        except Exception as exc:
            logger.warning("Could not mark task %s running: %s", message.task_id, exc)
        return message

    async def post_save(
        self, message: TaskiqMessage, result: TaskiqResult[Any]
    ) -> None:
        if result.is_err:
            error = result.error
            name, data = FAILED, {"error": f"{type(error).__name__}: {error}"}
        else:
            name = SUCCEEDED
            data = {"result": to_jsonable_python(result.return_value, fallback=str)}
        try:
            await self.events.append(message.task_id, name, data)
        except Exception as exc:
            logger.warning(
                "Could not publish the end of task %s: %s", message.task_id, exc
            )
