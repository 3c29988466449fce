"""A cheap wake-up when any process commits to a SQLite database.

In WAL mode every commit appends to the ``-wal`` file (and a checkpoint that
restarts it rewrites its head), so a change of its size or modification time
means a commit somewhere. One ``os.stat`` per tick, shared by every waiter of
the process and ticking only while someone waits, replaces each waiter's own
poll query: a worker hears of a new task, and a caller of its result, within
about a millisecond while work flows. The tick slows to 50 ms while nothing
changes, so an idle worker costs some 20 ``stat`` calls a second.
"""

import asyncio
import os
from pathlib import Path

FASTEST_TICK_SECONDS = 0.001
SLOWEST_TICK_SECONDS = 0.05

Signature = tuple[int, int] | None


class DatabaseChanges:
    def __init__(self, path: Path) -> None:
        self._wal = f"{path}-wal"
        # Kept between runs of the ticker: a commit made while nobody waited
        # still wakes the next waiter at once (at worst a spurious wake-up).
        self._seen = self._signature()
        self._changed: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._waiters = 0

    async def wait(self, seconds: float) -> bool:
        """Until the next commit (``True``) or for ``seconds`` (``False``)."""
        changed = self._event()
        self._waiters += 1
        if self._ticker is None or self._ticker.done():
            self._ticker = asyncio.create_task(self._tick())
        try:
            async with asyncio.timeout(seconds):
                await changed.wait()
        except TimeoutError:
            return False
        finally:
            self._waiters -= 1
        return True

    def _event(self) -> asyncio.Event:
        # Events belong to one loop; worker processes forked after import and
        # tests each run their own.
        loop = asyncio.get_running_loop()
        if self._changed is None or self._loop is not loop:
            self._changed, self._loop, self._ticker = asyncio.Event(), loop, None
        return self._changed

    async def _tick(self) -> None:
        tick = FASTEST_TICK_SECONDS
        while self._waiters:
            now = self._signature()
            if now != self._seen:
                self._seen, tick = now, FASTEST_TICK_SECONDS
                changed, self._changed = self._event(), asyncio.Event()
                changed.set()
            else:
                tick = min(tick * 1.5, SLOWEST_TICK_SECONDS)
            await asyncio.sleep(tick)

    def _signature(self) -> Signature:
        try:
            status = os.stat(self._wal)
        except FileNotFoundError:
            return None
        return status.st_mtime_ns, status.st_size


_changes: dict[Path, DatabaseChanges] = {}


def database_changes(path: Path) -> DatabaseChanges:
    """The one watcher of this database file in this process."""
    key = path.resolve()
    if key not in _changes:
        _changes[key] = DatabaseChanges(key)
    return _changes[key]
