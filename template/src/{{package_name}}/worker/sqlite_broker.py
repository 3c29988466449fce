"""The embedded broker: a task queue in a SQLite file, nothing to install.

Tasks leave the API process for separate worker processes, survive restarts and
are delivered at least once, like on Redis:

* a worker *claims* messages with one ``UPDATE … RETURNING`` that hides them
  for a lease (``visible_at`` moves into the future) and names the owner;
* while a task runs, a heartbeat pushes the lease forward, so a long task is
  never handed to a second worker;
* a worker that dies stops heartbeating: once the lease runs out the message is
  visible again and another worker claims it, also on an otherwise idle queue;
* acknowledging deletes the message; a graceful shutdown makes the messages it
  could not finish visible again at once;
* the ``delay`` label sets ``visible_at`` in the future (retries really wait).

Workers poll: an empty claim is one indexed query, repeated every
``poll_interval_seconds`` while the queue is idle and not at all while it is busy.
"""

import asyncio
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

from taskiq import AckableMessage, AsyncBroker, BrokerMessage

from .labels import delay_seconds
from .sqlite_db import SqliteConnection

logger = logging.getLogger(__name__)

RETRY_AFTER_ERROR_SECONDS = 1.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS taskiq_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    queue TEXT NOT NULL,
    data BLOB NOT NULL,
    -- Unix time from which a worker may claim it: the send time plus any delay,
    -- or the end of the current lease.
    visible_at REAL NOT NULL,
    owner TEXT,
    deliveries INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS ix_taskiq_messages_queue_visible_at
    ON taskiq_messages (queue, visible_at);
"""

_INSERT = "INSERT INTO taskiq_messages (queue, data, visible_at) VALUES (?, ?, ?)"

_CLAIM = """
UPDATE taskiq_messages
SET owner = :owner, visible_at = :lease_end, deliveries = deliveries + 1
WHERE id IN (
    SELECT id FROM taskiq_messages
    WHERE queue = :queue AND visible_at <= :now
    ORDER BY visible_at, id
    LIMIT :limit
)
RETURNING id, data, deliveries
"""

# Ids travel as one JSON array: no limit on the number of SQL parameters.
_EXTEND = """
UPDATE taskiq_messages SET visible_at = :lease_end
WHERE owner = :owner AND id IN (SELECT value FROM json_each(:ids))
RETURNING id
"""

_RELEASE = """
UPDATE taskiq_messages SET visible_at = :now, owner = NULL
WHERE owner = :owner AND id IN (SELECT value FROM json_each(:ids))
"""

_ACK = "DELETE FROM taskiq_messages WHERE id = ?"


class SqliteBroker(AsyncBroker):
    """At-least-once delivery through a SQLite table shared by all processes.

    ``lease_seconds`` is how long a dead worker's messages wait before another
    worker runs them; a live worker renews its leases three times per lease, so
    it bounds nothing about how long a task may run. ``claim_batch`` messages are
    claimed per query: more is faster, fewer spreads work across workers.
    """

    def __init__(
        self,
        path: Path | str,
        *,
        queue_name: str = "taskiq",
        lease_seconds: float = 30.0,
        poll_interval_seconds: float = 0.1,
        claim_batch: int = 8,
    ) -> None:
        if lease_seconds <= 0 or poll_interval_seconds <= 0 or claim_batch < 1:
            message = "lease and poll interval must be > 0, claim_batch >= 1"
            raise ValueError(message)
        super().__init__()
        self.path = Path(path)
        self.queue_name = queue_name
        self.lease_seconds = lease_seconds
        self.poll_interval = poll_interval_seconds
        self.claim_batch = claim_batch
        self.database = SqliteConnection(self.path, SCHEMA)
        self.owner = ""
        self._held: set[int] = set()
        self._heartbeat: asyncio.Task[None] | None = None

    async def startup(self) -> None:
        await self.database.get()
        await super().startup()

    async def shutdown(self) -> None:
        """Stop renewing leases once the worker has finished its tasks, and make
        what it could not finish visible to other workers now, not at lease end."""
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            await asyncio.wait([self._heartbeat])
            self._heartbeat = None
        if self._held:
            unfinished, self._held = sorted(self._held), set()
            try:
                await self._execute(
                    _RELEASE,
                    {"now": time.time(), "owner": self.owner, "ids": _ids(unfinished)},
                )
            except Exception as exc:
                logger.warning("Could not hand back unfinished messages: %s", exc)
        await super().shutdown()
        await self.database.close()

    async def ping(self) -> None:
        connection = await self.database.get()
        await connection.execute_fetchall("SELECT 1 FROM taskiq_messages LIMIT 1")

    async def kick(self, message: BrokerMessage) -> None:
        queue = message.labels.get("queue_name") or self.queue_name
        delay = delay_seconds(message.labels.get("delay"))
        await self._execute(_INSERT, (queue, message.message, time.time() + delay))

    async def listen(self) -> AsyncGenerator[AckableMessage]:
        # Named per process: worker processes share the object built at import.
        self.owner = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        if self._heartbeat is None or self._heartbeat.done():
            self._heartbeat = asyncio.create_task(self._renew_leases())
        while True:
            try:
                claimed = await self._claim()
            except Exception as exc:
                logger.warning(
                    "Could not claim messages, retrying in %.0f s: %s",
                    RETRY_AFTER_ERROR_SECONDS,
                    exc,
                )
                await asyncio.sleep(RETRY_AFTER_ERROR_SECONDS)
                continue
            if not claimed:
                await asyncio.sleep(self.poll_interval)
                continue
            for message_id, data in claimed:
                yield AckableMessage(data=data, ack=self._acknowledger(message_id))

    async def queue_depth(self) -> int:
        """Messages waiting or running in this broker's queue."""
        connection = await self.database.get()
        rows = await connection.execute_fetchall(
            "SELECT count(*) FROM taskiq_messages WHERE queue = ?", (self.queue_name,)
        )
        count: int = next(iter(rows))[0]
        return count

    async def _claim(self) -> list[tuple[int, bytes]]:
        now = time.time()
        rows = await self._execute(
            _CLAIM,
            {
                "owner": self.owner,
                "lease_end": now + self.lease_seconds,
                "queue": self.queue_name,
                "now": now,
                "limit": self.claim_batch,
            },
        )
        claimed = []
        for message_id, data, deliveries in sorted(rows):
            if deliveries > 1:
                logger.info(
                    "Re-delivering message %d (delivery %d): its worker stopped "
                    "before finishing it",
                    message_id,
                    deliveries,
                )
            self._held.add(message_id)
            claimed.append((message_id, bytes(data)))
        return claimed

    def _acknowledger(self, message_id: int) -> Callable[[], Awaitable[None]]:
        async def ack() -> None:
            # Stop renewing first: if the delete fails, the message comes back
            # when its lease ends (at least once), never held forever.
            self._held.discard(message_id)
            await self._execute(_ACK, (message_id,))

        return ack

    async def _renew_leases(self) -> None:
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            if not self._held:
                continue
            held = sorted(self._held)
            try:
                rows = await self._execute(
                    _EXTEND,
                    {
                        "lease_end": time.time() + self.lease_seconds,
                        "owner": self.owner,
                        "ids": _ids(held),
                    },
                )
            except Exception as exc:
                logger.warning("Could not renew leases: %s", exc)
                continue
            lost = set(held).difference(row[0] for row in rows) & self._held
            if lost:
                # This process stalled past its lease: another worker owns
                # these messages now and may run them too.
                logger.warning("Lost %d messages to other workers", len(lost))
                self._held -= lost

    async def _execute(
        self, sql: str, parameters: dict[str, Any] | tuple[Any, ...]
    ) -> Iterable[Any]:
        connection = await self.database.get()
        return await connection.execute_fetchall(sql, parameters)


def _ids(ids: Iterable[int]) -> str:
    return json.dumps(list(ids))
