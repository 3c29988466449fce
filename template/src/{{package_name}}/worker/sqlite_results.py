"""Task results and progress in the embedded broker's SQLite file, as JSON.

Every process that sends tasks or runs them sees the same results. Rows expire
``result_ttl_seconds`` after their last write; expired rows read as missing and
are deleted in passes at most once a minute per process.
"""

import json
import time
from pathlib import Path
from typing import Any, TypeVar

from taskiq import AsyncResultBackend, TaskiqResult
from taskiq.depends.progress_tracker import TaskProgress
from taskiq.exceptions import ResultGetError

from .sqlite_db import SqliteConnection

_ReturnType = TypeVar("_ReturnType")

PURGE_INTERVAL_SECONDS = 60.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS taskiq_results (
    task_id TEXT PRIMARY KEY,
    result TEXT,
    progress TEXT,
    expires_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_taskiq_results_expires_at
    ON taskiq_results (expires_at);
"""

_UPSERT = """
INSERT INTO taskiq_results (task_id, {column}, expires_at) VALUES (?, ?, ?)
ON CONFLICT (task_id) DO UPDATE
SET {column} = excluded.{column}, expires_at = excluded.expires_at
"""

_SELECT = "SELECT {column} FROM taskiq_results WHERE task_id = ? AND expires_at > ?"


class ResultMissingError(ResultGetError):
    __template__ = "No result for task {task_id!r}: unknown or expired"
    task_id: str


class SqliteResultBackend(AsyncResultBackend[_ReturnType]):
    def __init__(self, path: Path | str, *, result_ttl_seconds: int) -> None:
        if result_ttl_seconds <= 0:
            raise ValueError("result_ttl_seconds must be > 0")
        self.database = SqliteConnection(Path(path), SCHEMA)
        self.result_ttl_seconds = result_ttl_seconds
        self._next_purge = 0.0

    async def startup(self) -> None:
        await self.database.get()

    async def shutdown(self) -> None:
        await self.database.close()

    async def set_result(self, task_id: str, result: TaskiqResult[_ReturnType]) -> None:
        await self._write("result", task_id, result.model_dump_json())
        await self._purge_expired()

    async def is_result_ready(self, task_id: str) -> bool:
        return await self._read("result", task_id) is not None

    async def get_result(
        self, task_id: str, with_logs: bool = False
    ) -> TaskiqResult[_ReturnType]:
        raw = await self._read("result", task_id)
        if raw is None:
            raise ResultMissingError(task_id=task_id)
        return TaskiqResult[_ReturnType].model_validate(json.loads(raw))

    async def set_progress(self, task_id: str, progress: TaskProgress[Any]) -> None:
        await self._write("progress", task_id, progress.model_dump_json())

    async def get_progress(self, task_id: str) -> TaskProgress[Any] | None:
        raw = await self._read("progress", task_id)
        if raw is None:
            return None
        return TaskProgress[Any].model_validate_json(raw)

    async def _write(self, column: str, task_id: str, value: str) -> None:
        expires_at = time.time() + self.result_ttl_seconds
        await self.database.execute(
            _UPSERT.format(column=column), (task_id, value, expires_at)
        )

    async def _read(self, column: str, task_id: str) -> str | None:
        rows = await self.database.execute(
            _SELECT.format(column=column), (task_id, time.time())
        )
        for (value,) in rows:
            return str(value) if value is not None else None
        return None

    async def _purge_expired(self) -> None:
        now = time.time()
        if now < self._next_purge:
            return
        self._next_purge = now + PURGE_INTERVAL_SECONDS
        await self.database.execute(
            "DELETE FROM taskiq_results WHERE expires_at <= ?", (now,)
        )
