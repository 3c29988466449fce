"""Writes of concurrent tasks committed together (results, progress, job events;
the broker merges its acknowledgements into one statement, see ``AckBatch``).

Writes that arrive while a transaction runs go out together in the next one:
one write lock and one commit for all of them instead of one each, which is
what lets a second worker process add throughput rather than wait for the
lock. An idle process's single write commits at once, as before. Each caller
returns once its own statements are committed; if a batch fails, each
caller's statements are tried alone, so one bad write fails only its caller.
"""

import asyncio
from collections.abc import Sequence

from .connection import Parameters, SqliteConnection

Statements = Sequence[tuple[str, Parameters]]


class GroupCommit:
    def __init__(self, database: SqliteConnection) -> None:
        self._database = database
        self._waiting: list[tuple[Statements, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def write(self, statements: Statements) -> None:
        done = asyncio.get_running_loop().create_future()
        self._waiting.append((statements, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write())
        # Shielded: one caller cancelled does not cancel the others' writes.
        await asyncio.shield(done)

    async def wait(self) -> None:
        """Until every write asked for so far is committed (or failed)."""
        if self._writer is not None and not self._writer.done():
            await self._writer

    async def _write(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                await self._commit([s for statements, _ in batch for s in statements])
            except Exception as exc:
                if len(batch) == 1:
                    _settle(batch[0][1], exc)
                    continue
                for statements, done in batch:
                    try:
                        await self._commit(statements)
                    except Exception as alone:
                        _settle(done, alone)
                    else:
                        _settle(done, None)
            else:
                for _, done in batch:
                    _settle(done, None)

    async def _commit(self, statements: Statements) -> None:
        if len(statements) == 1:  # Autocommit: no BEGIN and COMMIT to send.
            await self._database.execute(*statements[0])
        else:
            await self._database.transaction(statements)


def _settle(done: asyncio.Future[None], error: Exception | None) -> None:
    if done.done():
        return
    if error is None:
        done.set_result(None)
    else:
        done.set_exception(error)
