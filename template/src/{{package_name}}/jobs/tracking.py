"""Records when a task is queued and when it starts, next to its result."""

from taskiq import TaskiqMessage, TaskiqMiddleware
from taskiq.depends.progress_tracker import TaskProgress, TaskState

# taskiq's TaskState has no "queued": the state between send and start is ours.
QUEUED = "QUEUED"


class JobTrackingMiddleware(TaskiqMiddleware):
    """Writes a progress record at send and at start, so that a job id is
    known (and reported ``queued``) from the moment it is returned to a client."""

    async def pre_send(self, message: TaskiqMessage) -> TaskiqMessage:
        await self.broker.result_backend.set_progress(
            message.task_id, TaskProgress[None](state=QUEUED, meta=None)
        )
        return message

    async def pre_execute(self, message: TaskiqMessage) -> TaskiqMessage:
        await self.broker.result_backend.set_progress(
            message.task_id, TaskProgress[None](state=TaskState.STARTED, meta=None)
        )
        return message
