"""Records a job's state next to its result, and its events for live clients."""

import logging
from typing import Any, TypeGuard

from taskiq import TaskiqMessage, TaskiqMiddleware, TaskiqResult
from taskiq.depends.progress_tracker import TaskProgress, TaskState
from taskiq.exceptions import SendTaskError

from ..auth.labels import owner_of
from ..worker.backends.json_results import JsonResultBackend
from .events import RUNNING, JobEventLog, final_event

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
    """Writes a progress record at send, so that a job id is known (and
    reported ``queued``) from the moment it is returned to a client, and the
    ``running`` mark (progress record and event) at start. The service's result
    backends append the final event with the result (in the same write where
    the store allows); for any other, it is appended here after the result."""

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
        results = self.broker.result_backend
        try:
            running = job_record(message, TaskState.STARTED)
            if self._appends_events(results):
                await results.start_job(message.task_id, running)
            else:
                await results.set_progress(message.task_id, running)
                await self.events.append(message.task_id, RUNNING, {})
        except Exception as exc:
            logger.warning("Could not mark task %s running: %s", message.task_id, exc)
        return message

    async def post_save(
        self, message: TaskiqMessage, result: TaskiqResult[Any]
    ) -> None:
        if self._appends_events(self.broker.result_backend):
            return
        try:
            await self.events.append(message.task_id, *final_event(result))
        except Exception as exc:
            logger.warning(
                "Could not publish the end of task %s: %s", message.task_id, exc
            )

    def _appends_events(self, results: object) -> TypeGuard[JsonResultBackend[Any]]:
        return isinstance(results, JsonResultBackend) and results.job_events is not None
