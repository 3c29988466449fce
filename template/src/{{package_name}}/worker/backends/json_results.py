"""Task results and progress as JSON, with taskiq's result-backend contract,
for every backend: each supplies only how to write, read and take a value.

The contract (checked for every backend by ``tests/worker/test_result_backends.py``,
adapted from taskiq-redis's own tests): ``get_result`` drops the log unless
``with_logs=True``; with ``keep_results=False`` a result is gone once read; a
missing or expired result raises :class:`ResultMissingError`; a TTL that is not
a positive number of seconds raises :class:`ResultTtlError` at construction;
a result that is not JSON raises ``ValueError`` when it is set; a backend shut
down refuses to be used until started up again (a client silently reopened
after shutdown would never be closed).

JSON, not pickles: unpickling runs code, so anyone able to write to the store
could run it in workers.
"""

import asyncio
import logging
import time
from abc import abstractmethod
from typing import Any, Literal, TypeVar

from taskiq import AsyncResultBackend, TaskiqResult
from taskiq.depends.progress_tracker import TaskProgress, TaskState
from taskiq.exceptions import ResultBackendError, ResultGetError

from ...jobs.events import RUNNING, START, JobEventLog, final_event

logger = logging.getLogger(__name__)

ReturnType = TypeVar("ReturnType")
Event = tuple[str, dict[str, Any]]

Field = Literal["result", "progress"]


class ResultMissingError(ResultGetError):
    __template__ = "No result for task {task_id!r}: unknown, expired or taken"
    task_id: str


class ResultTtlError(ResultBackendError):
    __template__ = "result_ttl_seconds must be a whole number > 0, not {ttl!r}"
    ttl: object


class ResultBackendClosedError(ResultBackendError):
    __template__ = "The result backend was shut down: start it up again first"


class JsonResultBackend(AsyncResultBackend[ReturnType]):
    """Given the job event log, it also appends each job's ``running`` event
    with its progress record (:meth:`start_job`) and its final event with its
    result, in one write where the store allows; and a caller waiting for a
    result is woken by that final event (:meth:`wait_for_result`)."""

    def __init__(
        self,
        *,
        result_ttl_seconds: int,
        keep_results: bool = True,
        job_events: JobEventLog | None = None,
    ) -> None:
        if not isinstance(result_ttl_seconds, int) or result_ttl_seconds <= 0:
            raise ResultTtlError(ttl=result_ttl_seconds)
        self.result_ttl_seconds = result_ttl_seconds
        self.keep_results = keep_results
        self.job_events = job_events
        self._shut_down = False

    async def startup(self) -> None:
        self._shut_down = False
        await super().startup()

    async def shutdown(self) -> None:
        self._shut_down = True
        await super().shutdown()

    @abstractmethod
    async def write(self, task_id: str, field: Field, value: bytes) -> None:
        """Store the value, replacing any, for ``result_ttl_seconds``."""

    @abstractmethod
    async def read(self, task_id: str, field: Field, *, take: bool) -> bytes | None:
        """The unexpired value or ``None``; ``take``: delete it as it is read."""

    @abstractmethod
    async def has_result(self, task_id: str) -> bool: ...

    async def write_with_event(
        self, task_id: str, field: Field, value: bytes, event: Event
    ) -> None:
        """Write the value and append the job's event; one write where the
        store allows (Redis: a script), two here. A failed append is logged:
        the job's state matters more than its live followers."""
        await self.write(task_id, field, value)
        assert self.job_events is not None
        try:
            await self.job_events.append(task_id, *event)
        except Exception as exc:
            logger.warning("Could not append %r to job %s: %s", event[0], task_id, exc)

    async def start_job(
        self, task_id: str, progress: TaskProgress[Any] | None = None
    ) -> None:
        """The ``running`` mark: the progress record (``progress``, e.g. one
        that names the job's owner), and the event."""
        self._refuse_if_shut_down()
        record = STARTED if progress is None else dump_progress(progress)
        if self.job_events is None:
            await self.write(task_id, "progress", record)
        else:
            await self.write_with_event(task_id, "progress", record, (RUNNING, {}))

    async def set_result(self, task_id: str, result: TaskiqResult[ReturnType]) -> None:
        self._refuse_if_shut_down()
        value = dump_result(result)
        if self.job_events is None:
            await self.write(task_id, "result", value)
        else:
            await self.write_with_event(task_id, "result", value, final_event(result))

    async def wait_for_result(
        self, task_id: str, wait_seconds: float | None, recheck_seconds: float = 1.0
    ) -> bool:
        """Whether the result is there, waiting up to ``wait_seconds`` for it
        (``None``: no limit). Woken by the job's final event; without an event
        log, or should an event be lost, it looks again every
        ``recheck_seconds``."""
        deadline = None if wait_seconds is None else time.monotonic() + wait_seconds
        cursor = START
        while not await self.is_result_ready(task_id):
            left = recheck_seconds
            if deadline is not None:
                left = min(left, deadline - time.monotonic())
                if left <= 0:
                    return False
            if self.job_events is None:
                await asyncio.sleep(left)
                continue
            found = await self.job_events.read({task_id: cursor}, left)
            for event in found.get(task_id, []):
                cursor = event.id
        return True

    async def is_result_ready(self, task_id: str) -> bool:
        self._refuse_if_shut_down()
        return await self.has_result(task_id)

    async def get_result(
        self, task_id: str, with_logs: bool = False
    ) -> TaskiqResult[ReturnType]:
        self._refuse_if_shut_down()
        raw = await self.read(task_id, "result", take=not self.keep_results)
        if raw is None:
            raise ResultMissingError(task_id=task_id)
        result = TaskiqResult[ReturnType].model_validate_json(raw)
        if not with_logs:
            result.log = None
        return result

    async def set_progress(
        self, task_id: str, progress: TaskProgress[ReturnType]
    ) -> None:
        self._refuse_if_shut_down()
        await self.write(task_id, "progress", dump_progress(progress))

    async def get_progress(self, task_id: str) -> TaskProgress[ReturnType] | None:
        self._refuse_if_shut_down()
        raw = await self.read(task_id, "progress", take=False)
        if raw is None:
            return None
        return TaskProgress[ReturnType].model_validate_json(raw)

    def _refuse_if_shut_down(self) -> None:
        if self._shut_down:
            raise ResultBackendClosedError


def dump_result(result: TaskiqResult[Any]) -> bytes:
    """JSON bytes; ``ValueError`` for a return value JSON cannot hold."""
    return result.model_dump_json().encode()


def dump_progress(progress: TaskProgress[Any]) -> bytes:
    return progress.model_dump_json().encode()


# Built once: a parametrised pydantic model costs a class lookup per use.
STARTED = dump_progress(TaskProgress[None](state=TaskState.STARTED, meta=None))
