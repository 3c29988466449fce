"""The production broker: taskiq-redis's stream broker with its gaps closed.

``RedisStreamBroker`` (taskiq-redis 1.2.4) gives at-least-once delivery through a
consumer group: a worker reads with XREADGROUP and acknowledges with XACK once the
task is done. Left as it is, it also

* re-claims a dead worker's messages only after a non-empty read, so on a quiet
  queue they wait until the next task arrives;
* re-runs any task longer than ``idle_timeout`` while it is still running;
* never trims its stream, which grows by every task ever sent;
* ignores the ``delay`` label, so retries "in 4 s" run at once;
* opens a new client for every message sent and every acknowledgement, and
  sends one ``XACK`` per message (grouped here, see ``acks.py``);
* fails the start of any process, API included, while Redis is down;
* ends the worker process on the first connection error;
* acknowledges and drops messages it cannot run, which are parked here in the
  ``<queue>:dead`` stream instead (see ``poison.py``).

Each override below names the problem it fixes. All times are Redis's own clock
(``TIME`` inside scripts), so hosts with skewed clocks agree on when a delayed
task is due.
"""

import asyncio
import logging
import math
import os
import socket
import time
import uuid
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, cast

from redis.asyncio import ConnectionPool, Redis
from redis.exceptions import RedisError, ResponseError
from taskiq import AckableMessage, BrokerMessage
from taskiq_redis import RedisStreamBroker

from ...holds import Holds
from ...labels import delay_seconds
from ...outage import Outage
from ...poison import log_parked, poison_reason
from ..interface import DeadLetter
from .acks import GroupedAcks

logger = logging.getLogger(__name__)

# redis-py's default when neither the URL nor the caller sets ``socket_timeout``.
REDIS_PY_SOCKET_TIMEOUT = 5.0
# The workers' consumer group (also read by the queue-depth metric).
CONSUMER_GROUP = "taskiq"
# Scripts take ids as arguments: keep each call far below Lua's stack limit.
SCRIPT_BATCH = 500

# A stream entry as redis-py parses it: (id, fields), fields None for an entry
# deleted while pending. Bytes, as decode_responses is off.
StreamEntry = tuple[bytes, dict[bytes, bytes] | None]

# KEYS: delayed set. ARGV: delay in ms, member. Scored by its due time.
_SCHEDULE = """
local now = redis.call('TIME')
local now_ms = now[1] * 1000 + math.floor(now[2] / 1000)
redis.call('ZADD', KEYS[1], now_ms + tonumber(ARGV[1]), ARGV[2])
"""

# KEYS: delayed set, stream. ARGV: batch size, maxlen (0: none). Returns how many
# it moved and the ms until the next entry is due (-1: none). Moving and removing
# in one script: two workers can never move an entry twice.
_MOVE_DUE = """
local now = redis.call('TIME')
local now_ms = now[1] * 1000 + math.floor(now[2] / 1000)
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now_ms, 'LIMIT', 0, ARGV[1])
local moved = 0
for _, member in ipairs(due) do
  moved = moved + 1
  -- Bytes 1-16 are the random prefix that keeps two equal messages distinct.
  local data = string.sub(member, 17)
  if ARGV[2] == '0' then
    redis.call('XADD', KEYS[2], '*', 'data', data)
  else
    redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'data', data)
  end
  redis.call('ZREM', KEYS[1], member)
end
local next_due = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2]
return {moved, next_due and math.max(0, next_due - now_ms) or -1}
"""

# KEYS: stream. ARGV: group, consumer, idle ms, ids... Sets the idle time of the
# ids this consumer still owns (XCLAIM alone would also take them from whichever
# worker re-claimed them meanwhile) and returns those ids.
_TOUCH = """
local owned = {}
for i = 4, #ARGV do
  if #redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1, ARGV[2]) > 0 then
    owned[#owned + 1] = ARGV[i]
  end
end
if #owned > 0 then
  local claim = {'XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0}
  for _, id in ipairs(owned) do claim[#claim + 1] = id end
  claim[#claim + 1] = 'IDLE'
  claim[#claim + 1] = ARGV[3]
  claim[#claim + 1] = 'JUSTID'
  redis.call(unpack(claim))
end
return owned
"""

# KEYS: dead-letter stream, queue stream. ARGV: dead letter id. Moves it back.
_REQUEUE = """
local entry = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])[1]
if not entry then return 0 end
local fields = entry[2]
for i = 1, #fields, 2 do
  if fields[i] == 'data' then
    redis.call('XADD', KEYS[2], '*', 'data', fields[i + 1])
  end
end
redis.call('XDEL', KEYS[1], ARGV[1])
return 1
"""

# KEYS: stream. Trims only what every consumer group has read and acknowledged:
# entries older than each group's oldest pending entry and last delivered entry.
_TRIM_ACKNOWLEDGED = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local function older(a, b)
  local am, as = string.match(a, '(%d+)-(%d+)')
  local bm, bs = string.match(b, '(%d+)-(%d+)')
  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
  return am < bm or (am == bm and as < bs)
end
local floor = nil
for _, group in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
  local name, keep
  for i = 1, #group, 2 do
    if group[i] == 'name' then name = group[i + 1] end
    if group[i] == 'last-delivered-id' then keep = group[i + 1] end
  end
  local pending = redis.call('XPENDING', KEYS[1], name)
  if pending[1] > 0 and older(pending[2], keep) then keep = pending[2] end
  if floor == nil or older(keep, floor) then floor = keep end
end
if floor == nil then return 0 end
return redis.call('XTRIM', KEYS[1], 'MINID', '~', floor)
"""


class ReliableRedisStreamBroker(RedisStreamBroker):
    """At-least-once task delivery over a Redis stream and one consumer group.

    A message is acknowledged when its task is done. While the task runs, a
    heartbeat keeps the message's idle time near zero; a message idle for longer
    than ``idle_timeout_seconds`` belongs to a dead worker and is re-delivered to
    a live one. Size ``idle_timeout_seconds`` to how long a dead worker's tasks may
    wait, not to the longest task: a live worker's tasks are never re-delivered
    unless its event loop stalls for that long.

    Every ``poll_interval_seconds`` an idle worker wakes up and moves due delayed
    tasks into the stream: that is the precision of the ``delay`` label. The
    blocking read never outlasts half the connection's ``socket_timeout``, which
    redis-py otherwise reports as a dead connection.

    The stream is trimmed of acknowledged entries only, so a backlog is never
    dropped. ``maxlen`` adds a hard cap, approximately: it bounds Redis's memory
    but silently drops the oldest entries, delivered or not, once it is reached.
    """

    def __init__(
        self,
        url: str,
        *,
        queue_name: str = "taskiq",
        consumer_group_name: str = CONSUMER_GROUP,
        consumer_name: str | None = None,
        idle_timeout_seconds: float = 60.0,
        poll_interval_seconds: float = 0.5,
        read_count: int = 10,
        max_deliveries: int = 10,
        maxlen: int | None = None,
        max_connection_pool_size: int | None = None,
        **connection_kwargs: Any,
    ) -> None:
        if idle_timeout_seconds <= 0 or poll_interval_seconds <= 0:
            raise ValueError(
                "idle_timeout_seconds and poll_interval_seconds must be > 0"
            )
        super().__init__(
            url,
            queue_name=queue_name,
            max_connection_pool_size=max_connection_pool_size,
            consumer_group_name=consumer_group_name,
            consumer_name=consumer_name,
            # A new group starts at the stream's beginning, not at its end ("$"),
            # so tasks sent before any worker ever ran (or while Redis came back
            # empty and the group was re-created) are not skipped.
            consumer_id="0",
            mkstream=True,
            maxlen=maxlen,
            approximate=True,
            idle_timeout=math.ceil(idle_timeout_seconds * 1000),
            xread_count=read_count,
            **connection_kwargs,
        )
        # Upstream names the consumer once per broker object, which worker
        # processes forked after import would share; listen() names it per process.
        self._consumer_name_fixed = consumer_name is not None
        self._named_in_pid: int | None = None
        # A plain pool, not upstream's BlockingConnectionPool: its lock and
        # condition cost every command CPU for a limit this broker never needs
        # (its connections: one read, one heartbeat, the acknowledgements).
        self.connection_pool = ConnectionPool.from_url(  # type: ignore[assignment]
            url, max_connections=max_connection_pool_size, **connection_kwargs
        )
        # One client over the broker's pool, instead of one per message upstream.
        self.redis = Redis(connection_pool=self.connection_pool)
        socket_timeout = self.connection_pool.connection_kwargs.get(
            "socket_timeout", REDIS_PY_SOCKET_TIMEOUT
        )
        block_seconds = poll_interval_seconds
        if socket_timeout:
            block_seconds = min(block_seconds, float(socket_timeout) / 2)
        self.block = max(1, int(block_seconds * 1000))
        self.poll_interval = poll_interval_seconds
        self.max_deliveries = max_deliveries
        self.claim_interval = idle_timeout_seconds / 2
        self.heartbeat_interval = idle_timeout_seconds / 3
        self._holds = Holds[bytes]()
        self._heartbeat: asyncio.Task[None] | None = None
        self._claim_cursor: bytes | str = "0-0"
        self._schedule = self.redis.register_script(_SCHEDULE)
        self._move_due = self.redis.register_script(_MOVE_DUE)
        self._touch_script = self.redis.register_script(_TOUCH)
        self._trim_acknowledged = self.redis.register_script(_TRIM_ACKNOWLEDGED)
        self._requeue = self.redis.register_script(_REQUEUE)
        self._acks = GroupedAcks(self.redis, self.queue_name, consumer_group_name)

    async def kick(self, message: BrokerMessage) -> None:
        # Upstream opens a client per message and ignores ``delay``. Here: one
        # shared client, and a delayed message waits in a sorted set until due.
        queue = message.labels.get("queue_name") or self.queue_name
        delay = delay_seconds(message.labels.get("delay"))
        if delay > 0:
            member = uuid.uuid4().bytes + message.message
            await self._schedule(
                keys=[delayed_key(queue)], args=[math.ceil(delay * 1000), member]
            )
        else:
            await self.redis.xadd(
                queue, {b"data": message.message}, maxlen=self.maxlen, approximate=True
            )

    async def startup(self) -> None:
        """Upstream declares the consumer group here, so a Redis that is down
        fails the start of every process, API included, which then cannot even
        report itself unready. Workers (re-)declare the group when a read finds
        it missing, so it is only attempted here."""
        await super(RedisStreamBroker, self).startup()
        try:
            await self._declare_consumer_group()
        except RedisError as exc:
            logger.warning("Redis is unavailable at start-up: %s", exc)

    async def ping(self) -> None:
        await self.redis.ping()

    async def listen(self) -> AsyncGenerator[AckableMessage]:
        """Deliver new messages, and on timers: move due delayed messages in,
        re-claim dead workers' messages, trim what every group acknowledged.

        Upstream re-claims only after a read that returned messages, and ends
        on the first connection error; this loop outlives Redis restarts.
        """
        if not self._consumer_name_fixed and self._named_in_pid != os.getpid():
            self._named_in_pid = os.getpid()
            tag = uuid.uuid4().hex[:8]
            self.consumer_name = f"{socket.gethostname()}-{os.getpid()}-{tag}"
        if self._heartbeat is None or self._heartbeat.done():
            self._heartbeat = asyncio.create_task(self._heartbeat_loop())
        next_move = next_claim = time.monotonic()
        declare_group = False
        outage = Outage("Redis", logger)
        while True:
            _raise_if_cancelled()
            try:
                if declare_group:
                    await self._declare_consumer_group()
                    declare_group = False
                if time.monotonic() >= next_move:
                    next_move = time.monotonic() + await self._move_due_messages()
                if time.monotonic() >= next_claim:
                    next_claim = time.monotonic() + self.claim_interval
                    await self._trim_acknowledged(keys=[self.queue_name])
                    for message in await self._claim_idle():
                        yield message
                # Block no longer than until the next timer: delays run on time.
                wake_in = min(next_move, next_claim) - time.monotonic()
                messages = await self._read_new(wake_in)
                outage.succeeded()
                for message in messages:
                    yield message
            except RedisError as exc:
                if str(exc).startswith("NOGROUP"):
                    # The stream vanished (Redis restarted empty, or the key was
                    # deleted) and the consumer group with it.
                    logger.warning("Consumer group missing, creating it: %s", exc)
                    declare_group = True
                    continue
                await asyncio.sleep(outage.failed(exc))

    async def shutdown(self) -> None:
        """Stop the heartbeat after the worker has finished its tasks, and hand
        back messages fetched but never finished (prefetched and discarded, or
        abandoned at the shutdown timeout) for re-delivery now, not after
        ``idle_timeout``."""
        await self._acks.wait()
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            await asyncio.wait([self._heartbeat])
            self._heartbeat = None
        if unfinished := self._holds.take_unfinished():
            try:
                await self._touch(unfinished, idle_ms=self.idle_timeout)
            except RedisError as exc:
                logger.warning("Could not hand back unfinished messages: %s", exc)
        await super().shutdown()

    async def _move_due_messages(self) -> float:
        """Move due delayed messages into the stream; return seconds until the
        next look: sooner than the poll interval if one falls due before."""
        moved, next_due_in_ms = await self._move_due(
            keys=[delayed_key(self.queue_name), self.queue_name],
            args=[SCRIPT_BATCH, self.maxlen or 0],
        )
        if moved == SCRIPT_BATCH:  # A full batch: more may be due already.
            return 0.0
        if next_due_in_ms >= 0:
            return min(self.poll_interval, int(next_due_in_ms) / 1000)
        return self.poll_interval

    async def _read_new(self, wait_seconds: float) -> list[AckableMessage]:
        _raise_if_cancelled()  # Lost in the previous command: do not block.
        block_ms = min(self.block, int(wait_seconds * 1000))
        fetched = await self.redis.xreadgroup(
            self.consumer_group_name,
            self.consumer_name,
            {self.queue_name: ">"},
            count=self.count,
            # BLOCK 0 would wait forever: when a timer is due, do not block.
            block=block_ms if block_ms > 0 else None,
        )
        if not fetched:  # Nothing arrived while blocked.
            return []
        # One stream: [[name, entries]] in RESP2, {name: [entries]} in RESP3.
        if isinstance(fetched, dict):
            [[entries]] = fetched.values()
        else:
            [[_, entries]] = fetched
        return await self._deliver(cast("list[StreamEntry]", entries))

    async def _claim_idle(self) -> list[AckableMessage]:
        """Take over messages whose worker stopped heartbeating (it died)."""
        reply = await self.redis.xautoclaim(
            self.queue_name,
            self.consumer_group_name,
            self.consumer_name,
            min_idle_time=self.idle_timeout,
            start_id=self._claim_cursor,
            count=self.unacknowledged_batch_size,
        )
        # The cursor walks the pending list over successive passes, so idle
        # entries behind many live ones are reached too.
        self._claim_cursor, entries = reply[0], reply[1]
        if not entries:
            return []
        logger.info("Re-claimed %d messages from dead workers", len(entries))
        # XAUTOCLAIM counts a delivery (the heartbeat's XCLAIM JUSTID does not).
        pending = await self.redis.xpending_range(
            self.queue_name,
            self.consumer_group_name,
            min=entries[0][0],
            max=entries[-1][0],
            count=len(entries),
            consumername=self.consumer_name,
        )
        deliveries = {
            cast("bytes", p["message_id"]): int(p["times_delivered"]) for p in pending
        }
        return await self._deliver(entries, deliveries)

    async def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        reply = await self.redis.xrange(dead_letter_key(self.queue_name), count=limit)
        letters = []
        for entry_id, fields in cast("list[tuple[bytes, dict[bytes, bytes]]]", reply):
            letters.append(
                DeadLetter(
                    id=entry_id.decode(),
                    queue=self.queue_name,
                    reason=fields[b"reason"].decode(),
                    parked_at=datetime.fromtimestamp(float(fields[b"parked_at"]), UTC),
                    data=fields[b"data"],
                )
            )
        return letters

    async def requeue_dead_letter(self, dead_letter_id: str) -> bool:
        """Send a parked message again; ``False`` if there is no such id."""
        try:
            moved = await self._requeue(
                keys=[dead_letter_key(self.queue_name), self.queue_name],
                args=[dead_letter_id],
            )
        except ResponseError:  # Not a stream id at all.
            return False
        return bool(moved)

    async def _park(self, message_id: bytes, data: bytes, reason: str) -> None:
        """Move a message to the dead-letter stream and acknowledge it, at once."""
        async with self.redis.pipeline(transaction=True) as pipeline:
            pipeline.xadd(
                dead_letter_key(self.queue_name),
                {b"data": data, b"reason": reason, b"parked_at": str(time.time())},
            )
            pipeline.xack(self.queue_name, self.consumer_group_name, message_id)
            await pipeline.execute()
        log_parked(self.queue_name, reason)

    async def _deliver(
        self,
        entries: Iterable[StreamEntry],
        deliveries: Mapping[bytes, int] | None = None,
    ) -> list[AckableMessage]:
        messages = []
        for message_id, fields in entries:
            if fields is None:  # Deleted from the stream while pending.
                continue
            data = fields.get(b"data", b"")
            reason = poison_reason(
                self, data, (deliveries or {}).get(message_id, 1), self.max_deliveries
            )
            if reason is not None:
                await self._park(message_id, data, reason)
                continue
            ack = self._acknowledger(message_id)
            self._holds.hold(message_id, ack)
            messages.append(AckableMessage(data=data, ack=ack))
        return messages

    def _acknowledger(self, message_id: bytes) -> Callable[[], Awaitable[None]]:
        async def ack() -> None:
            # Stop the heartbeat first: if XACK fails, the message is re-delivered
            # once idle (at least once), never kept alive forever.
            self._holds.acknowledged(message_id)
            try:
                await self._acks.acknowledge(message_id)
            except RedisError as exc:
                logger.warning("Could not acknowledge %r: %s", message_id, exc)

        return ack

    async def _heartbeat_loop(self) -> None:
        """Upstream re-runs a task still running after ``idle_timeout``: reset the
        idle time of every message this worker holds, three times per timeout."""
        while True:
            _raise_if_cancelled()
            await asyncio.sleep(self.heartbeat_interval)
            try:
                if abandoned := self._holds.take_abandoned():
                    # Idle as long as a dead worker's: re-claimed at once.
                    await self._touch(abandoned, idle_ms=self.idle_timeout)
                if self._holds.running:
                    await self._touch(sorted(self._holds.running), idle_ms=0)
            except RedisError as exc:
                logger.warning("Heartbeat failed: %s", exc)

    async def _touch(self, message_ids: list[bytes], *, idle_ms: int) -> None:
        for start in range(0, len(message_ids), SCRIPT_BATCH):
            batch = message_ids[start : start + SCRIPT_BATCH]
            owned = await self._touch_script(
                keys=[self.queue_name],
                args=[self.consumer_group_name, self.consumer_name, idle_ms, *batch],
            )
            lost = set(batch).difference(owned)
            if lost and idle_ms == 0:
                # This worker stalled past idle_timeout (or Redis lost the
                # stream): another worker owns these now and may run them too.
                logger.warning("Lost %d messages to other workers", len(lost))
                self._holds.lost(lost)


def _raise_if_cancelled() -> None:
    """Honour a cancellation that redis-py lost. It sends commands under
    ``asyncio.wait_for``, which before Python 3.12 swallows a cancellation that
    lands as the send completes (CPython gh-86296): the listener then read on
    forever, and a worker sometimes ignored SIGTERM."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


def delayed_key(queue_name: str) -> str:
    """The sorted set holding a queue's delayed messages until they are due."""
    return f"{queue_name}:delayed"


def dead_letter_key(queue_name: str) -> str:
    """The stream of a queue's parked messages."""
    return f"{queue_name}:dead"
