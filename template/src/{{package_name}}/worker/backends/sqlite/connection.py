"""One SQLite connection per process for the embedded broker, its results and
job events, and the modules' state kept beside them.

Both live in one database file that any number of processes (API, workers) open
at once: WAL lets readers and a writer work side by side, ``busy_timeout`` makes
a writer wait for the lock instead of failing at once. Every write is a single
statement in autocommit mode, which takes the write lock before it reads, so two
processes can never claim the same row. The few changes that span two
statements run in an explicit ``BEGIN IMMEDIATE`` transaction.
"""

import asyncio
import os
import sqlite3
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from threading import Thread
from typing import Any, cast

import aiosqlite

BUSY_TIMEOUT_MS = 10_000

Parameters = dict[str, Any] | tuple[Any, ...]


class SqliteConnection:
    """Opens the database on first use in each process, creating its schema.

    A connection never crosses a fork: worker processes started after import
    each open their own.
    """

    def __init__(self, path: Path, schema: str) -> None:
        self.path = path
        self._schema = schema
        self._connection: aiosqlite.Connection | None = None
        self._pid: int | None = None
        # Statements of one process share the connection: the lock keeps them
        # out of each other's transactions.
        self._lock: asyncio.Lock | None = None

    async def get(self) -> aiosqlite.Connection:
        if self._connection is not None and self._pid == os.getpid():
            return self._connection
        lock = self._process_lock()
        async with lock:
            if self._connection is None:
                self._connection = await self._open()
        return self._connection

    async def execute(self, sql: str, parameters: Parameters = ()) -> Iterable[Any]:
        """Run one statement in its own transaction; the rows it returns."""
        connection = await self.get()
        async with self._process_lock():
            return await connection.execute_fetchall(sql, parameters)

    async def transaction(self, statements: Sequence[tuple[str, Parameters]]) -> None:
        """Run the statements atomically: all of them or none."""
        connection = await self.get()
        async with self._process_lock():
            await connection.execute("BEGIN IMMEDIATE")
            try:
                for sql, parameters in statements:
                    await connection.execute(sql, parameters)
            except BaseException:
                await connection.execute("ROLLBACK")
                raise
            await connection.execute("COMMIT")

    def _process_lock(self) -> asyncio.Lock:
        if self._lock is None or self._pid != os.getpid():
            self._lock = asyncio.Lock()
            self._connection = None
            self._pid = os.getpid()
        return self._lock

    async def _open(self) -> aiosqlite.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Switching a new file to WAL takes an exclusive lock without waiting on
        # busy_timeout: processes starting together retry instead of crashing.
        delay = 0.05
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        while True:
            connection = aiosqlite.connect(self.path, isolation_level=None)
            # aiosqlite runs each connection in a thread that is not a daemon:
            # one never closed (a result backend never shut down) would keep
            # the process from exiting.
            # (aiosqlite < 0.22: the connection is the thread.)
            thread = cast("Thread", getattr(connection, "_thread", connection))
            thread.daemon = True
            await connection
            try:
                await self._prepare(connection)
                return connection
            except sqlite3.OperationalError as exc:
                await connection.close()
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
            except BaseException:
                await connection.close()
                raise
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.5)

    async def _prepare(self, connection: aiosqlite.Connection) -> None:
        await connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        await connection.execute("PRAGMA journal_mode=WAL")
        # With WAL, NORMAL loses at most the last commits on power loss (never
        # on a process crash) and saves an fsync per commit.
        await connection.execute("PRAGMA synchronous=NORMAL")
        await connection.executescript(self._schema)

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None and self._pid == os.getpid():
            await connection.close()


def sqlite_path(url: str) -> Path:
    """``sqlite:///var/b.db`` is relative, ``sqlite:////srv/b.db`` absolute."""
    path = url.removeprefix("sqlite://").removeprefix("/")
    if not path:
        raise ValueError(f"{url!r} names no file: use sqlite:///path/to/broker.db")
    return Path(path if not url.startswith("sqlite:////") else "/" + path)
