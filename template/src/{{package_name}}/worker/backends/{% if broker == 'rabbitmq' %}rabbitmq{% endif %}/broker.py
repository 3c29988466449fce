"""The RabbitMQ broker: taskiq-aio-pika's, with its gaps closed.

``AioPikaBroker`` (taskiq-aio-pika 0.6.1) consumes a quorum queue and
acknowledges a message when taskiq's receiver says the task is done; RabbitMQ
hands every unacknowledged message of a closed channel (a killed worker, or a
graceful shutdown) to another consumer at once. Left as it is, it also

* refuses any message with a ``delay`` label unless given a delay queue, and that
  delay queue holds messages of every delay in one queue with per-message TTLs:
  RabbitMQ expires only the head, so a 1 s retry waits behind a 5 min one;
* fails the start of any process, API included, while RabbitMQ is down (a
  worker crash-restarts with a traceback every few seconds until it is back);
* never dead-letters a message that kills its worker each time, nor one it
  cannot decode or whose task it does not know (taskiq acknowledges and drops
  those), so they are parked in ``<queue>.dead`` here (see ``poison.py``);
* keeps a message that taskiq's receiver dropped without acknowledging unacked
  (nobody will finish it) until the worker exits.

Each override below names the problem it fixes.
"""

import asyncio
import logging
import math
import time
import uuid
from collections.abc import AsyncGenerator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import aiormq
from aio_pika import DeliveryMode, ExchangeType, Message, connect_robust
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage
from pamqp.common import FieldTable
from taskiq import AckableMessage, BrokerMessage
from taskiq_aio_pika import AioPikaBroker, Exchange, Queue

from ...holds import Holds
from ...labels import delay_seconds
from ...outage import Outage
from ...poison import log_parked, poison_reason
from ..interface import DeadLetter

logger = logging.getLogger(__name__)

# What a RabbitMQ that is down or unreachable raises while connecting.
CONNECTION_ERRORS = (aiormq.exceptions.AMQPError, OSError, TimeoutError)
# What settling a message raises once its channel is closed.
SETTLE_ERRORS = (*CONNECTION_ERRORS, aiormq.exceptions.ChannelInvalidStateError)
# How often abandoned messages are handed back (see holds.py).
HAND_BACK_INTERVAL_SECONDS = 0.5
# A delay queue is declared again when a send finds its declaration older than
# this, and deletes itself once unused for its TTL plus twice this: it can never
# vanish with messages in it, nor be left behind for long once idle.
DELAY_QUEUE_REDECLARE_SECONDS = 60.0
# Headers RabbitMQ or this broker add; a requeued dead letter starts afresh.
_BOOKKEEPING_HEADERS = ("x-delivery-count", "x-death", "x-first-death-")
PARKED_REASON = "x-parked-reason"
PARKED_AT = "x-parked-at"


class RabbitMQBroker(AioPikaBroker):
    """At-least-once task delivery over a RabbitMQ quorum queue.

    A message is acknowledged when its task is done; a worker holds at most
    ``prefetch`` unacknowledged messages (its concurrency plus prefetch). A
    message delivered more than ``max_deliveries`` times (RabbitMQ counts them in
    the ``x-delivery-count`` header) is parked instead of run: every earlier
    delivery ended with its worker dead. The limit is checked here rather than
    declared as the queue's ``x-delivery-limit``, which RabbitMQ refuses to change
    on an existing queue.

    A delayed message waits in ``<queue>.delay.<ms>``, a queue whose messages all
    share one TTL (so none waits behind a longer one), until RabbitMQ
    dead-letters it into the task queue. Delays are rounded up to two
    significant digits (at most 10% later) so that few such queues exist.
    """

    def __init__(
        self,
        url: str,
        *,
        queue_name: str = "taskiq",
        max_deliveries: int = 10,
        prefetch: int = 10,
        connect_timeout: float | None = None,
    ) -> None:
        if max_deliveries < 1 or prefetch < 1:
            raise ValueError("max_deliveries and prefetch must be >= 1")
        super().__init__(
            url,
            qos=prefetch,
            exchange=Exchange(name=queue_name, type=ExchangeType.DIRECT),
            # Quorum queues (the default) replicate messages and count deliveries.
            task_queues=[Queue(name=queue_name)],
            dead_letter_queue=Queue(name=dead_letter_queue_name(queue_name)),
            timeout=connect_timeout,
        )
        self.queue_name = queue_name
        self.max_deliveries = max_deliveries
        self._connecting = asyncio.Lock()
        self._holds = Holds[int]()
        self._held: dict[int, AbstractIncomingMessage] = {}
        self._next_hold = 0
        self._hand_back: asyncio.Task[None] | None = None
        self._delay_queues_declared: dict[str, float] = {}

    async def startup(self) -> None:
        """Upstream connects here, so a RabbitMQ that is down fails the start of
        every process, API included, which then cannot even report itself
        unready. Here a process that cannot connect yet starts anyway: sending
        connects on first use, and a worker's listener waits for RabbitMQ."""
        await super(AioPikaBroker, self).startup()
        try:
            await self._writer()
        except CONNECTION_ERRORS as exc:
            logger.warning("RabbitMQ is unavailable at start-up: %s", exc)

    async def ping(self) -> None:
        """A round trip to RabbitMQ: the task queue must exist."""
        channel = await self._writer()
        await channel.get_queue(self.queue_name, ensure=True)

    async def kick(self, message: BrokerMessage) -> None:
        """Upstream refuses delays without a delay queue, and its one delay
        queue makes short delays wait behind long ones."""
        channel = await self._writer()
        amqp_message = Message(
            body=message.message,
            headers={
                "task_id": message.task_id,
                "task_name": message.task_name,
                **message.labels,
            },
            delivery_mode=DeliveryMode.PERSISTENT,
            message_id=uuid.uuid4().hex,
        )
        delay = delay_seconds(message.labels.get("delay"))
        if delay <= 0:
            exchange = await channel.get_exchange(self._exchange.name, ensure=False)
            await exchange.publish(amqp_message, routing_key=self.queue_name)
            return
        ttl_ms = delay_ttl_ms(delay)
        name = delay_queue_name(self.queue_name, ttl_ms)
        declared = self._delay_queues_declared.get(name, -math.inf)
        if time.monotonic() - declared > DELAY_QUEUE_REDECLARE_SECONDS:
            await channel.declare_queue(
                name,
                durable=True,
                arguments={
                    "x-message-ttl": ttl_ms,
                    "x-dead-letter-exchange": "",
                    "x-dead-letter-routing-key": self.queue_name,
                    "x-expires": ttl_ms + int(DELAY_QUEUE_REDECLARE_SECONDS * 2000),
                },
            )
            self._delay_queues_declared[name] = time.monotonic()
        # Published with confirms and ``mandatory``: a send that RabbitMQ did
        # not store raises, and the API answers 503.
        await channel.default_exchange.publish(amqp_message, routing_key=name)

    async def listen(self) -> AsyncGenerator[AckableMessage]:
        """Upstream yields every message; here poison messages are parked
        first, and messages taskiq abandons are handed back."""
        channel = await self._reader()
        await channel.set_qos(prefetch_count=self._qos)
        [(queue, consumer_arguments)] = await self._declare_queues(channel)
        if self._hand_back is None or self._hand_back.done():
            self._hand_back = asyncio.create_task(self._hand_back_loop())
        async with queue.iterator(**consumer_arguments) as incoming_messages:
            async for incoming in incoming_messages:
                if (message := await self._deliver(incoming)) is not None:
                    yield message

    async def shutdown(self) -> None:
        """Closing the channels (upstream) makes RabbitMQ hand every message this
        worker did not acknowledge to another worker at once."""
        if self._hand_back is not None:
            self._hand_back.cancel()
            await asyncio.wait([self._hand_back])
            self._hand_back = None
        await super().shutdown()

    async def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        """Parked messages, oldest first. Queues cannot be browsed: they are
        fetched unacknowledged on a channel of their own, whose closing puts
        them back."""
        channel = await self._side_channel()
        letters: list[DeadLetter] = []
        try:
            queue = await channel.get_queue(self._dead_letter_queue.name, ensure=True)
            while len(letters) < limit:
                incoming = await queue.get(no_ack=False, fail=False)
                if incoming is None:
                    break
                letters.append(self._dead_letter(incoming))
        finally:
            await channel.close()
        return letters

    async def requeue_dead_letter(self, dead_letter_id: str) -> bool:
        """Send a parked message again; ``False`` if there is no such id."""
        channel = await self._side_channel()
        try:
            queue = await channel.get_queue(self._dead_letter_queue.name, ensure=True)
            while (incoming := await queue.get(no_ack=False, fail=False)) is not None:
                if incoming.message_id != dead_letter_id:
                    continue
                headers = {
                    key: value
                    for key, value in incoming.headers.items()
                    if key not in (PARKED_REASON, PARKED_AT)
                    and not key.startswith(_BOOKKEEPING_HEADERS)
                }
                await channel.default_exchange.publish(
                    Message(
                        body=incoming.body,
                        headers=headers,
                        delivery_mode=DeliveryMode.PERSISTENT,
                        message_id=incoming.message_id,
                    ),
                    routing_key=self.queue_name,
                )
                # Acknowledged once RabbitMQ confirmed the copy: at least once.
                await incoming.ack()
                return True
        finally:
            await channel.close()
        return False

    async def _writer(self) -> AbstractChannel:
        """The channel that sends, connected (and queues declared) on first use."""
        async with self._connecting:
            if self.write_channel is None:
                connection = await connect_robust(self.url, **self._conn_kwargs)
                try:
                    self.write_conn = connection
                    self.write_channel = await connection.channel()
                    await self._declare_exchanges()
                    await self._declare_queues(self.write_channel)
                except BaseException:
                    self.write_conn = self.write_channel = None
                    await connection.close()
                    raise
            return self.write_channel

    async def _reader(self) -> AbstractChannel:
        """The channel that consumes; waits for RabbitMQ to answer. Once
        connected, aio-pika's robust connection reconnects by itself."""
        outage = Outage("RabbitMQ", logger)
        while self.read_channel is None:
            try:
                connection = await connect_robust(self.url, **self._conn_kwargs)
            except CONNECTION_ERRORS as exc:
                await asyncio.sleep(outage.failed(exc))
                continue
            outage.succeeded()
            self.read_conn = connection
            self.read_channel = await connection.channel()
        return self.read_channel

    async def _side_channel(self) -> AbstractChannel:
        await self._writer()
        assert self.write_conn is not None
        return await self.write_conn.channel()

    async def _deliver(
        self, incoming: AbstractIncomingMessage
    ) -> AckableMessage | None:
        # A quorum queue counts earlier deliveries that ended unacknowledged.
        deliveries = int(_header(incoming, "x-delivery-count") or 0) + 1
        reason = poison_reason(self, incoming.body, deliveries, self.max_deliveries)
        if reason is not None:
            await self._park(incoming, reason)
            return None
        self._next_hold += 1
        hold = self._next_hold
        ack = self._acknowledger(hold, incoming)
        self._held[hold] = incoming
        self._holds.hold(hold, ack)
        return AckableMessage(data=incoming.body, ack=ack)

    async def _park(self, incoming: AbstractIncomingMessage, reason: str) -> None:
        """Copy the message with its reason into the dead-letter queue, then
        acknowledge it: parked at least once, never dropped."""
        channel = await self._writer()
        headers: FieldTable = {
            key: value
            for key, value in incoming.headers.items()
            if not key.startswith(_BOOKKEEPING_HEADERS)
        }
        headers[PARKED_REASON] = reason
        headers[PARKED_AT] = time.time()
        await channel.default_exchange.publish(
            Message(
                body=incoming.body,
                headers=headers,
                delivery_mode=DeliveryMode.PERSISTENT,
                message_id=incoming.message_id or uuid.uuid4().hex,
            ),
            routing_key=self._dead_letter_queue.name,
        )
        await incoming.ack()
        log_parked(self.queue_name, reason)

    def _dead_letter(self, incoming: AbstractIncomingMessage) -> DeadLetter:
        reason = _header(incoming, PARKED_REASON)
        parked_at = _header(incoming, PARKED_AT)
        if reason is None:
            # Dead-lettered by RabbitMQ itself (a policy's delivery limit or
            # length limit, a rejection): its x-death header says why and when.
            deaths = _header(incoming, "x-death") or [{}]
            death = deaths[0]
            reason = f"dead-lettered by RabbitMQ: {death.get('reason', 'unknown')}"
            when = death.get("time")
            parked_at = when.timestamp() if isinstance(when, datetime) else None
        return DeadLetter(
            id=incoming.message_id or "",
            queue=self.queue_name,
            reason=str(reason),
            parked_at=datetime.fromtimestamp(float(parked_at or time.time()), UTC),
            data=incoming.body,
        )

    def _acknowledger(
        self, hold: int, incoming: AbstractIncomingMessage
    ) -> Callable[[], Awaitable[None]]:
        async def ack() -> None:
            self._holds.acknowledged(hold)
            self._held.pop(hold, None)
            try:
                await incoming.ack()
            except SETTLE_ERRORS as exc:
                # Its channel closed: RabbitMQ delivers it again (at least once).
                logger.warning("Could not acknowledge a message: %r", exc)

        return ack

    async def _hand_back_loop(self) -> None:
        """Return the messages taskiq dropped unacknowledged for another
        delivery now, not when this worker exits."""
        while True:
            await asyncio.sleep(HAND_BACK_INTERVAL_SECONDS)
            for hold in self._holds.take_abandoned():
                incoming = self._held.pop(hold, None)
                if incoming is None:
                    continue
                try:
                    await incoming.nack(requeue=True)
                except SETTLE_ERRORS as exc:
                    logger.warning("Could not hand back a message: %r", exc)


def _header(incoming: AbstractIncomingMessage, name: str) -> Any:
    return incoming.headers.get(name)


def delay_ttl_ms(delay: float) -> int:
    """``delay`` seconds in ms, rounded up to two significant digits."""
    ms = max(1, math.ceil(delay * 1000))
    step = int(10 ** max(0, len(str(ms)) - 2))
    return math.ceil(ms / step) * step


def delay_queue_name(queue_name: str, ttl_ms: int) -> str:
    return f"{queue_name}.delay.{ttl_ms}"


def dead_letter_queue_name(queue_name: str) -> str:
    return f"{queue_name}.dead"
