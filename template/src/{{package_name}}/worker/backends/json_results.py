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

from abc import abstractmethod
from typing import Any, Literal, TypeVar

from taskiq import AsyncResultBackend, TaskiqResult
from taskiq.depends.progress_tracker import TaskProgress
from taskiq.exceptions import ResultBackendError, ResultGetError

ReturnType = TypeVar("ReturnType")

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
    def __init__(self, *, result_ttl_seconds: int, keep_results: bool = True) -> None:
        if not isinstance(result_ttl_seconds, int) or result_ttl_seconds <= 0:
            raise ResultTtlError(ttl=result_ttl_seconds)
        self.result_ttl_seconds = result_ttl_seconds
        self.keep_results = keep_results
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

    async def set_result(self, task_id: str, result: TaskiqResult[ReturnType]) -> None:
        self._refuse_if_shut_down()
        await self.write(task_id, "result", dump_result(result))

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
