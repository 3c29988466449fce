"""Task results and progress in the embedded broker's SQLite file, as JSON.

Every process that sends tasks or runs them sees the same results. Rows expire
``result_ttl_seconds`` after their last write; expired rows read as missing and
are deleted in passes at most once a minute per process.
"""

import time
from pathlib import Path
from typing import TypeVar

from ....jobs.events import JobEventLog
from ..json_results import Event, Field, JsonResultBackend
from .connection import Parameters, SqliteConnection
from .events import SCHEMA as EVENTS_SCHEMA
from .events import SqliteJobEventLog
from .group_commit import GroupCommit

ReturnType = TypeVar("ReturnType")

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
INSERT INTO taskiq_results (task_id, {field}, expires_at) VALUES (?, ?, ?)
ON CONFLICT (task_id) DO UPDATE
SET {field} = excluded.{field}, expires_at = excluded.expires_at
"""

_SELECT = "SELECT {field} FROM taskiq_results WHERE task_id = ? AND expires_at > ?"

# A result taken is the job's end: its progress goes with it.
_TAKE = """
DELETE FROM taskiq_results
WHERE task_id = ? AND expires_at > ? AND {field} IS NOT NULL
RETURNING {field}
"""


class SqliteResultBackend(JsonResultBackend[ReturnType]):
    def __init__(
        self,
        path: Path | str,
        *,
        result_ttl_seconds: int,
        keep_results: bool = True,
        job_events: JobEventLog | None = None,
    ) -> None:
        super().__init__(
            result_ttl_seconds=result_ttl_seconds,
            keep_results=keep_results,
            job_events=job_events,
        )
        # The job events' table too: a value and its event commit together.
        self.database = SqliteConnection(Path(path), SCHEMA + EVENTS_SCHEMA)
        self.events = job_events if isinstance(job_events, SqliteJobEventLog) else None
        self._writes = GroupCommit(self.database)
        self._next_purge = 0.0

    async def startup(self) -> None:
        await super().startup()
        await self.database.get()

    async def shutdown(self) -> None:
        await super().shutdown()
        await self._writes.wait()
        await self.database.close()

    async def write(self, task_id: str, field: Field, value: bytes) -> None:
        await self._writes.write(self._write_statements(task_id, field, value))

    async def write_with_event(
        self, task_id: str, field: Field, value: bytes, event: Event
    ) -> None:
        if self.events is None:
            await super().write_with_event(task_id, field, value, event)
            return
        await self._writes.write(
            self._write_statements(task_id, field, value)
            + self.events.append_statements(task_id, *event)
        )

    def _write_statements(
        self, task_id: str, field: Field, value: bytes
    ) -> list[tuple[str, Parameters]]:
        now = time.time()
        statements: list[tuple[str, Parameters]] = [
            (
                _UPSERT.format(field=field),
                (task_id, value.decode(), now + self.result_ttl_seconds),
            )
        ]
        if field == "result" and now >= self._next_purge:
            self._next_purge = now + PURGE_INTERVAL_SECONDS
            statements.append(
                ("DELETE FROM taskiq_results WHERE expires_at <= ?", (now,))
            )
        return statements

    async def read(self, task_id: str, field: Field, *, take: bool) -> bytes | None:
        sql = _TAKE if take else _SELECT
        rows = await self.database.execute(
            sql.format(field=field), (task_id, time.time())
        )
        for (value,) in rows:
            return str(value).encode() if value is not None else None
        return None

    async def has_result(self, task_id: str) -> bool:
        return await self.read(task_id, "result", take=False) is not None
