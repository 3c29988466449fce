"""``await task.wait_result()`` woken when the result is written, not by a poll.

taskiq's ``AsyncTaskiqTask.wait_result`` asks the result backend every
``check_interval`` (0.2 s): a caller waits ~200 ms for a task of 1 ms. The
tasks of this service's broker return a task whose wait blocks on the job's
event log instead (a blocking stream read on Redis, a cheap wake-up on SQLite)
and looks again every ``check_interval`` only in case an event was lost.
"""

from copy import copy
from typing import Any, ParamSpec, TypeVar

from taskiq import AsyncTaskiqDecoratedTask, AsyncTaskiqTask, TaskiqResult
from taskiq.exceptions import TaskiqResultTimeoutError
from taskiq.kicker import AsyncKicker

from .backends.json_results import JsonResultBackend

Params = ParamSpec("Params")
ReturnType = TypeVar("ReturnType")


class WokenTask(AsyncTaskiqTask[ReturnType]):
    async def wait_result(
        self,
        check_interval: float = 0.2,
        timeout: float = -1.0,  # noqa: ASYNC109 (taskiq's signature)
        with_logs: bool = False,
    ) -> TaskiqResult[ReturnType]:
        results = self.result_backend
        if not isinstance(results, JsonResultBackend):
            return await super().wait_result(check_interval, timeout, with_logs)
        ready = await results.wait_for_result(
            self.task_id,
            wait_seconds=timeout if timeout > 0 else None,
            recheck_seconds=check_interval,
        )
        if not ready:
            raise TaskiqResultTimeoutError(timeout=timeout)
        return await self.get_result(with_logs=with_logs)


class WokenKicker(AsyncKicker[Params, ReturnType]):
    async def kiq(self, *args: Any, **kwargs: Any) -> WokenTask[ReturnType]:
        task = await super().kiq(*args, **kwargs)
        return WokenTask(task.task_id, task.result_backend, task.return_type)


class WokenDecoratedTask(AsyncTaskiqDecoratedTask[Params, ReturnType]):
    """What ``@broker.task`` makes (``broker.decorator_class``)."""

    def kicker(self) -> AsyncKicker[Params, ReturnType]:
        return WokenKicker(
            task_name=self.task_name,
            broker=self.broker,
            labels=copy(self.labels),
            return_type=self.return_type,
        )
