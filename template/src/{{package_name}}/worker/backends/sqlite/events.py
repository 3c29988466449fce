"""Job events in the embedded broker's SQLite file.

A reader waiting for new events queries again when another process commits
to the file (see ``wakeup.py``), and one query serves every job it follows.
"""

import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ....jobs.events import JobEvent, event_order
from .connection import Parameters, SqliteConnection
from .wakeup import database_changes

PURGE_INTERVAL_SECONDS = 60.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS job_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id TEXT NOT NULL,
    name TEXT NOT NULL,
    data TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_job_events_job_id_id ON job_events (job_id, id);
CREATE INDEX IF NOT EXISTS ix_job_events_created_at ON job_events (created_at);
"""

_INSERT = "INSERT INTO job_events (job_id, name, data, created_at) VALUES (?, ?, ?, ?)"
_PURGE = "DELETE FROM job_events WHERE created_at < ?"

_SELECT = """
SELECT job_id, id, name, data FROM job_events
WHERE id > :after AND job_id IN (SELECT value FROM json_each(:jobs))
ORDER BY id
"""


class SqliteJobEventLog:
    def __init__(self, path: Path | str, *, ttl_seconds: int) -> None:
        self.database = SqliteConnection(Path(path), SCHEMA)
        self.changes = database_changes(Path(path))
        self.ttl_seconds = ttl_seconds
        self._next_purge = 0.0

    async def append(self, job_id: str, name: str, data: dict[str, Any]) -> None:
        for sql, parameters in self.append_statements(job_id, name, data):
            await self.database.execute(sql, parameters)

    def append_statements(
        self, job_id: str, name: str, data: dict[str, Any]
    ) -> list[tuple[str, Parameters]]:
        """The append as statements, for a caller that commits them with its
        own (the result backend: a result and its final event in one commit)."""
        now = time.time()
        statements: list[tuple[str, Parameters]] = [
            (_INSERT, (job_id, name, json.dumps(data), now))
        ]
        if now >= self._next_purge:
            self._next_purge = now + PURGE_INTERVAL_SECONDS
            statements.append((_PURGE, (now - self.ttl_seconds,)))
        return statements

    async def read(
        self, cursors: Mapping[str, str], wait_seconds: float
    ) -> dict[str, list[JobEvent]]:
        if not cursors:
            return {}
        deadline = time.monotonic() + wait_seconds
        while True:
            found = await self._read_once(cursors)
            left = deadline - time.monotonic()
            if found or left <= 0:
                return found
            await self.changes.wait(left)

    async def close(self) -> None:
        await self.database.close()

    async def _read_once(self, cursors: Mapping[str, str]) -> dict[str, list[JobEvent]]:
        after = {job_id: event_order(cursor)[0] for job_id, cursor in cursors.items()}
        rows = await self.database.execute(
            _SELECT, {"after": min(after.values()), "jobs": json.dumps(list(after))}
        )
        found: dict[str, list[JobEvent]] = {}
        for job_id, event_id, name, data in rows:
            if event_id > after[job_id]:
                event = JobEvent(f"{event_id}-0", name, json.loads(data))
                found.setdefault(job_id, []).append(event)
        return found
