"""The messages a worker process was handed and has not acknowledged.

The brokers here renew the lease of every message they hand out until it is
acknowledged, and hand back what is left when the worker shuts down. taskiq's
receiver acknowledges once the task's result is saved; but if anything raises
before that (a middleware, a retry that cannot be sent during an outage), or the
receiver discards prefetched messages at shutdown, nobody acknowledges and
nobody tells the broker: the lease would be renewed until the process exits.

The receiver drops its last reference to a message's ``ack`` callable when it is
done with the message, acknowledged or not. A message dropped unacknowledged is
*abandoned*: the broker stops renewing it and hands it back for another
delivery on its next heartbeat (at least once).
"""

import weakref
from collections.abc import Callable
from typing import Any, Generic, TypeVar

MessageId = TypeVar("MessageId", int, bytes)


class Holds(Generic[MessageId]):
    def __init__(self) -> None:
        self.running: set[MessageId] = set()
        self.abandoned: set[MessageId] = set()

    def hold(self, message_id: MessageId, ack: Callable[[], Any]) -> None:
        self.running.add(message_id)
        weakref.finalize(ack, self._abandon, message_id)

    def acknowledged(self, message_id: MessageId) -> None:
        self.running.discard(message_id)

    def lost(self, message_ids: set[MessageId]) -> None:
        """Another worker owns these now: stop renewing them."""
        self.running -= message_ids

    def take_abandoned(self) -> list[MessageId]:
        taken, self.abandoned = sorted(self.abandoned), set()
        return taken

    def take_unfinished(self) -> list[MessageId]:
        """Everything not acknowledged, to hand back at shutdown."""
        taken = sorted(self.running | self.abandoned)
        self.running, self.abandoned = set(), set()
        return taken

    def _abandon(self, message_id: MessageId) -> None:
        if message_id in self.running:
            self.running.discard(message_id)
            self.abandoned.add(message_id)
