"""Acknowledgements grouped into one ``XACK``.

Acknowledgements that arrive while one ``XACK`` is in flight share the next
one: a worker finishing many short tasks sends a few commands instead of one
per task (each costs ~90 µs of client CPU). Every caller still returns only
once its own message is acknowledged, and a task is acknowledged only after
its result and events are written, as before.
"""

import asyncio

from redis.asyncio import Redis


class GroupedAcks:
    def __init__(self, redis: Redis, stream: str, group: str) -> None:
        self.redis = redis
        self.stream = stream
        self.group = group
        self._waiting: list[tuple[bytes, asyncio.Future[None]]] = []
        self._sender: asyncio.Task[None] | None = None

    async def acknowledge(self, message_id: bytes) -> None:
        """Return once the message is acknowledged; raise what ``XACK`` raised."""
        done = asyncio.get_running_loop().create_future()
        self._waiting.append((message_id, done))
        if self._sender is None or self._sender.done():
            self._sender = asyncio.create_task(self._send())
        await done

    async def wait(self) -> None:
        """Until every acknowledgement asked for so far has been sent."""
        if self._sender is not None and not self._sender.done():
            await self._sender

    async def _send(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                await self.redis.xack(self.stream, self.group, *(m for m, _ in batch))
            except asyncio.CancelledError:
                for _, done in batch:
                    done.cancel()
                raise
            except Exception as exc:
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
            else:
                for _, done in batch:
                    if not done.done():
                        done.set_result(None)
