"""Records when a task is queued and when it starts, next to its result."""

import logging

from taskiq import TaskiqMessage, TaskiqMiddleware
from taskiq.depends.progress_tracker import TaskProgress, TaskState
from taskiq.exceptions import SendTaskError

logger = logging.getLogger(__name__)

# taskiq's TaskState has no "queued": the state between send and start is ours.
QUEUED = "QUEUED"


class JobTrackingMiddleware(TaskiqMiddleware):
    """Writes a progress record at send and at start, so that a job id is
    known (and reported ``queued``) from the moment it is returned to a client."""

    async def pre_send(self, message: TaskiqMessage) -> TaskiqMessage:
        try:
            await self.broker.result_backend.set_progress(
                message.task_id, TaskProgress[None](state=QUEUED, meta=None)
            )
        except Exception as exc:
            # The result backend is the broker's storage (or beside it): a
            # failure here means the task cannot be sent either.
            raise SendTaskError from exc
        return message

    async def pre_execute(self, message: TaskiqMessage) -> TaskiqMessage:
        try:
            await self.broker.result_backend.set_progress(
                message.task_id, TaskProgress[None](state=TaskState.STARTED, meta=None)
            )
        except Exception as exc:
            # The task matters more than its status: run it anyway (during a
            # Redis outage, for one). Raising here would drop the message.
            logger.warning("Could not mark task %s running: %s", message.task_id, exc)
        return message
