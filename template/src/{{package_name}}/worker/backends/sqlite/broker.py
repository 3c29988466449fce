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
* the ``delay`` label sets ``visible_at`` in the future (retries really wait);
* a message a worker cannot run, or one claimed ``max_deliveries`` times without
  finishing, is moved to ``taskiq_dead_letters`` (see ``poison.py``).

An idle worker claims again as soon as another process commits to the file
(see ``wakeup.py``), and every ``poll_interval_seconds`` at the latest, when
delayed messages fall due and dead workers' leases run out.
"""

import asyncio
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path

from taskiq import AckableMessage, AsyncBroker, BrokerMessage

from ...holds import Holds
from ...labels import delay_seconds
from ...outage import Outage
from ...poison import log_parked, poison_reason
from ..interface import DeadLetter
from .connection import SqliteConnection
from .wakeup import database_changes

logger = logging.getLogger(__name__)

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
CREATE TABLE IF NOT EXISTS taskiq_dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    queue TEXT NOT NULL,
    data BLOB NOT NULL,
    reason TEXT NOT NULL,
    parked_at REAL NOT NULL
);
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

_ACK = "DELETE FROM taskiq_messages WHERE id IN (SELECT value FROM json_each(?))"

_PARK = """
INSERT INTO taskiq_dead_letters (queue, data, reason, parked_at)
SELECT queue, data, :reason, :now FROM taskiq_messages WHERE id = :id
"""

_REQUEUE = """
INSERT INTO taskiq_messages (queue, data, visible_at)
SELECT queue, data, :now FROM taskiq_dead_letters WHERE id = :id
"""


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
        max_deliveries: int = 10,
    ) -> None:
        if lease_seconds <= 0 or poll_interval_seconds <= 0:
            raise ValueError("lease_seconds and poll_interval_seconds must be > 0")
        if claim_batch < 1 or max_deliveries < 1:
            raise ValueError("claim_batch and max_deliveries must be >= 1")
        super().__init__()
        self.path = Path(path)
        self.queue_name = queue_name
        self.lease_seconds = lease_seconds
        self.poll_interval = poll_interval_seconds
        self.claim_batch = claim_batch
        self.max_deliveries = max_deliveries
        self.database = SqliteConnection(self.path, SCHEMA)
        self.changes = database_changes(self.path)
        self.owner = ""
        self._holds = Holds[int]()
        self._acks = AckBatch(self.database)
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
        if unfinished := self._holds.take_unfinished():
            try:
                await self._hand_back(unfinished)
            except Exception as exc:
                logger.warning("Could not hand back unfinished messages: %s", exc)
        await super().shutdown()
        await self.database.close()

    async def ping(self) -> None:
        await self.database.execute("SELECT 1 FROM taskiq_messages LIMIT 1")

    async def kick(self, message: BrokerMessage) -> None:
        queue = message.labels.get("queue_name") or self.queue_name
        delay = delay_seconds(message.labels.get("delay"))
        await self.database.execute(
            _INSERT, (queue, message.message, time.time() + delay)
        )

    async def listen(self) -> AsyncGenerator[AckableMessage]:
        # Named per process: worker processes share the object built at import.
        self.owner = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        if self._heartbeat is None or self._heartbeat.done():
            self._heartbeat = asyncio.create_task(self._renew_leases())
        outage = Outage(f"The SQLite broker at {self.path}", logger)
        while True:
            try:
                claimed = await self._claim()
            except Exception as exc:
                await asyncio.sleep(outage.failed(exc))
                continue
            outage.succeeded()
            if not claimed:
                await self.changes.wait(self.poll_interval)
                continue
            for message in claimed:
                yield message

    async def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        rows = await self.database.execute(
            "SELECT id, queue, reason, parked_at, data FROM taskiq_dead_letters "
            "WHERE queue = ? ORDER BY id LIMIT ?",
            (self.queue_name, limit),
        )
        return [
            DeadLetter(
                id=str(row[0]),
                queue=row[1],
                reason=row[2],
                parked_at=datetime.fromtimestamp(row[3], UTC),
                data=bytes(row[4]),
            )
            for row in rows
        ]

    async def requeue_dead_letter(self, dead_letter_id: str) -> bool:
        """Send a parked message again; ``False`` if there is no such id."""
        if not dead_letter_id.isdigit():
            return False
        parameters = {"id": int(dead_letter_id), "now": time.time()}
        found = await self.database.execute(
            "SELECT 1 FROM taskiq_dead_letters WHERE id = :id", parameters
        )
        if not list(found):
            return False
        await self.database.transaction(
            [
                (_REQUEUE, parameters),
                ("DELETE FROM taskiq_dead_letters WHERE id = :id", parameters),
            ]
        )
        return True

    async def queue_depth(self) -> int:
        """Messages waiting or running in this broker's queue."""
        rows = await self.database.execute(
            "SELECT count(*) FROM taskiq_messages WHERE queue = ?", (self.queue_name,)
        )
        count: int = next(iter(rows))[0]
        return count

    async def _claim(self) -> list[AckableMessage]:
        now = time.time()
        rows = await self.database.execute(
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
            reason = poison_reason(self, bytes(data), deliveries, self.max_deliveries)
            if reason is not None:
                await self._park(message_id, reason)
                continue
            if deliveries > 1:
                logger.info(
                    "Re-delivering message %d (delivery %d): its worker stopped "
                    "before finishing it",
                    message_id,
                    deliveries,
                )
            ack = self._acknowledger(message_id)
            self._holds.hold(message_id, ack)
            claimed.append(AckableMessage(data=bytes(data), ack=ack))
        return claimed

    async def _park(self, message_id: int, reason: str) -> None:
        parameters = {"id": message_id, "reason": reason, "now": time.time()}
        await self.database.transaction(
            [
                (_PARK, parameters),
                ("DELETE FROM taskiq_messages WHERE id = :id", parameters),
            ]
        )
        log_parked(self.queue_name, reason)

    def _acknowledger(self, message_id: int) -> Callable[[], Awaitable[None]]:
        async def ack() -> None:
            # Stop renewing first: if the delete fails, the message comes back
            # when its lease ends (at least once), never held forever.
            self._holds.acknowledged(message_id)
            await self._acks.delete(message_id)

        return ack

    async def _renew_leases(self) -> None:
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            try:
                if abandoned := self._holds.take_abandoned():
                    await self._hand_back(abandoned)
                if self._holds.running:
                    await self._extend(sorted(self._holds.running))
            except Exception as exc:
                logger.warning("Could not renew leases: %s", exc)

    async def _extend(self, held: list[int]) -> None:
        rows = await self.database.execute(
            _EXTEND,
            {
                "lease_end": time.time() + self.lease_seconds,
                "owner": self.owner,
                "ids": _ids(held),
            },
        )
        lost = set(held).difference(row[0] for row in rows)
        if lost:
            # This process stalled past its lease: another worker owns these
            # messages now and may run them too.
            logger.warning("Lost %d messages to other workers", len(lost))
            self._holds.lost(lost)

    async def _hand_back(self, message_ids: list[int]) -> None:
        """Make messages claimable again now, not at the end of their lease."""
        await self.database.execute(
            _RELEASE,
            {"now": time.time(), "owner": self.owner, "ids": _ids(message_ids)},
        )


class AckBatch:
    """Group commit of acknowledgements: those that arrive while a delete runs
    go out together in the next one, which saves statements under load and
    delays none of them when idle."""

    def __init__(self, database: SqliteConnection) -> None:
        self._database = database
        self._ids: list[int] = []
        self._done: asyncio.Future[None] | None = None
        self._flusher: asyncio.Task[None] | None = None

    async def delete(self, message_id: int) -> None:
        loop = asyncio.get_running_loop()
        self._ids.append(message_id)
        if self._done is None:
            self._done = loop.create_future()
        done = self._done
        if self._flusher is None or self._flusher.done():
            self._flusher = loop.create_task(self._flush())
        # Shielded: one waiter cancelled does not cancel the others' delete.
        await asyncio.shield(done)

    async def _flush(self) -> None:
        while self._ids and self._done is not None:
            ids, done = self._ids, self._done
            self._ids, self._done = [], None
            try:
                await self._database.execute(_ACK, (_ids(ids),))
            except Exception as exc:
                done.set_exception(exc)
            else:
                done.set_result(None)


def _ids(ids: Iterable[int]) -> str:
    return json.dumps(list(ids))
