"""Room membership in this process, and fan-out of frames to its members.

Every frame, local or not, comes in through the backplane: one path whether
the sender is on this process, another API process or a worker. Each member
has a bounded send queue; a member too slow to drain it is disconnected rather
than let its queue grow without limit.
"""

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator, Callable
from types import FrameType
from typing import Any

from fastapi import WebSocket
from pydantic import BaseModel

from ..worker.broker import settings
from .backplane import Backplane, create_backplane

logger = logging.getLogger(__name__)

RETRY_AFTER_ERROR_SECONDS = 1.0
# A stop signal waits this long at most for the sockets' close handshakes.
CLOSE_ON_EXIT_TIMEOUT_SECONDS = 2.0


class Member:
    def __init__(self, websocket: WebSocket, queue_size: int) -> None:
        self.websocket = websocket
        self.outbox: asyncio.Queue[str] = asyncio.Queue(maxsize=queue_size)
        self.overflowed = asyncio.Event()

    def offer(self, frame: str) -> None:
        try:
            self.outbox.put_nowait(frame)
        except asyncio.QueueFull:
            self.overflowed.set()


class RoomHub:
    def __init__(self, backplane: Backplane) -> None:
        self.backplane = backplane
        self._rooms: dict[str, set[Member]] = {}
        self._reader: asyncio.Task[None] | None = None
        self._closing_on_signal = False
        self._lock: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None

    @property
    def members(self) -> int:
        return sum(len(members) for members in self._rooms.values())

    async def publish(self, room: str, frame: BaseModel) -> None:
        await self.backplane.publish(room, frame.model_dump_json())

    @contextlib.asynccontextmanager
    async def membership(self, room: str, member: Member) -> AsyncIterator[None]:
        # Joins and leaves race (a hundred clients at once): the backplane
        # subscribes a room once, when its first member arrives.
        async with self._membership_lock():
            members = self._rooms.setdefault(room, set())
            if not members:
                await self.backplane.subscribe(room)
            members.add(member)
        if self._reader is None or self._reader.done():
            self._reader = asyncio.create_task(self._fan_out())
        try:
            yield
        finally:
            async with self._membership_lock():
                members.discard(member)
                if not members and self._rooms.get(room) is members:
                    del self._rooms[room]
                    await self.backplane.unsubscribe(room)

    def _membership_lock(self) -> asyncio.Lock:
        # A lock belongs to one event loop; tests run one loop per test.
        loop = asyncio.get_running_loop()
        if self._lock is None or self._lock[0] is not loop:
            self._lock = (loop, asyncio.Lock())
        return self._lock[1]

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
            self._reader = None
        await self.backplane.close()

    async def close_all(self, code: int, reason: str) -> None:
        members = [m for members in self._rooms.values() for m in members]
        await asyncio.gather(
            *(m.websocket.close(code, reason) for m in members), return_exceptions=True
        )

    async def _fan_out(self) -> None:
        while True:
            try:
                async for room, frame in self.backplane.frames():
                    for member in list(self._rooms.get(room, ())):
                        member.offer(frame)
            except Exception as exc:
                logger.warning("Backplane read failed, retrying: %s", exc)
                await asyncio.sleep(RETRY_AFTER_ERROR_SECONDS)

    def close_members_on_exit_signal(self) -> None:
        """Close sockets with 1001 (going away) when the server is told to stop.

        uvicorn closes open WebSockets with 1012 (service restart) as soon as
        its signal handler has run, before any application shutdown code: so
        this handler comes first, closes the sockets, and only then hands the
        signal to uvicorn's handler.
        """
        if self._closing_on_signal:
            return
        self._closing_on_signal = True
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            previous = signal.getsignal(signum)

            async def close_then_continue(
                number: int,
                frame: FrameType | None,
                previous: Callable[[int, FrameType | None], Any] | Any,
            ) -> None:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(CLOSE_ON_EXIT_TIMEOUT_SECONDS):
                        await self.close_all(1001, "server shutting down")
                if callable(previous):
                    previous(number, frame)

            def on_signal(
                number: int, frame: FrameType | None, previous: Any = previous
            ) -> None:
                loop.call_soon_threadsafe(
                    lambda: loop.create_task(
                        close_then_continue(number, frame, previous)
                    )
                )

            signal.signal(signum, on_signal)


hub = RoomHub(create_backplane(settings))
