"""Taskiq middlewares: the request id follows a request into its tasks, and
every task is counted and timed."""

import time
from contextvars import ContextVar
from typing import Any

from taskiq import TaskiqMessage, TaskiqMiddleware, TaskiqResult

from . import context
from .metrics import (
    task_duration,
    tasks_enqueued,
    tasks_failed,
    tasks_retried,
    tasks_started,
    tasks_succeeded,
)

REQUEST_ID_LABEL = "request_id"

# Taskiq runs each message's middlewares and task in an asyncio task of its
# own: what is set here lives as long as that one message's handling.
_started_at: ContextVar[float] = ContextVar("task_started_at")


class RequestIdLabelMiddleware(TaskiqMiddleware):
    """A task sent while handling a request (or another task) carries its
    request id as a label; the worker puts it back into ``context``, with the
    task id, for as long as the task runs, so that its log lines name both."""

    def pre_send(self, message: TaskiqMessage) -> TaskiqMessage:
        request_id = context.request_id.get()
        if request_id is not None and REQUEST_ID_LABEL not in message.labels:
            message.labels[REQUEST_ID_LABEL] = request_id
        return message

    def pre_execute(self, message: TaskiqMessage) -> TaskiqMessage:
        label = message.labels.get(REQUEST_ID_LABEL)
        # A label is whatever reached the queue: checked like a header.
        safe = label is not None and context.is_safe_id(str(label))
        context.request_id.set(str(label) if safe else None)
        context.task_id.set(message.task_id)
        return message


class TaskMetricsMiddleware(TaskiqMiddleware):
    """``tasks_enqueued``, ``tasks_retried`` (on the sending side),
    ``tasks_started``, ``tasks_succeeded``, ``tasks_failed`` and
    ``task_duration_seconds`` (in workers), all by task name."""

    def post_send(self, message: TaskiqMessage) -> None:
        tasks_enqueued.labels(message.task_name).inc()
        if _retry_number(message) > 0:
            tasks_retried.labels(message.task_name).inc()

    def pre_execute(self, message: TaskiqMessage) -> TaskiqMessage:
        tasks_started.labels(message.task_name).inc()
        _started_at.set(time.perf_counter())
        return message

    def post_execute(self, message: TaskiqMessage, result: TaskiqResult[Any]) -> None:
        # taskiq's own result.execution_time is rounded to 10 ms: timed here.
        started = _started_at.get(None)
        if started is not None:
            elapsed = time.perf_counter() - started
            task_duration.labels(message.task_name).observe(elapsed)
        outcome = tasks_failed if result.is_err else tasks_succeeded
        outcome.labels(message.task_name).inc()


def _retry_number(message: TaskiqMessage) -> int:
    """The retry middleware's ``_retries`` label: 0 on a first send."""
    try:
        return int(str(message.labels.get("_retries", 0)))
    except ValueError:
        return 0
