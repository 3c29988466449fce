"""Messages a worker must not run, and where they go instead.

A message that cannot be decoded, names a task this worker does not have, or
was delivered ``max_deliveries`` times without finishing (it kills its worker
each time) is *parked*: moved to a dead-letter store, logged, and never retried
by itself. ``<package> dead-letters`` lists parked messages and requeues them
once fixed.
"""

import logging

from taskiq import AsyncBroker

logger = logging.getLogger(__name__)


def poison_reason(
    broker: AsyncBroker, data: bytes, deliveries: int, max_deliveries: int
) -> str | None:
    """Why this worker must not run the message (delivered ``deliveries`` times,
    this one included), or ``None`` when it may."""
    # Only workers judge messages: they alone have every task registered.
    if not broker.is_worker_process:
        return None
    if deliveries > max_deliveries:
        # Every earlier delivery ended with its worker dead.
        return (
            f"claimed {deliveries - 1} times and never finished: "
            "its worker died each time"
        )
    try:
        message = broker.formatter.loads(data)
    except Exception as exc:
        return f"undecodable message: {type(exc).__name__}: {exc}"
    if broker.find_task(message.task_name) is None:
        return f"unknown task {message.task_name!r}"
    return None


def log_parked(queue: str, reason: str) -> None:
    logger.error("Parked a message of queue %r as a dead letter: %s", queue, reason)
