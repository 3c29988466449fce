"""The scheduler process: taskiq's scheduler loop, made safe to run twice.

taskiq's scheduler has no leader election: two of them send everything twice.
Here every scheduler keeps trying to hold a leadership lease, and only the
leader sends. Each occurrence of a schedule (a cron minute, an interval window,
a one-off time) is also claimed under its own lease before it is sent, so a
leader that was paused past its lease, or a new leader taking over within the
same minute, cannot send it again. A follower keeps no memory of past sends:
when it takes over, whatever is due at that moment is sent (once).
"""

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta

from taskiq import AsyncBroker, ScheduledTask, ScheduleSource, TaskiqScheduler
from taskiq.cli.scheduler.run import SchedulerLoop
from taskiq.exceptions import ScheduledTaskCancelledError
from taskiq.kicker import AsyncKicker
from taskiq.schedule_sources import LabelScheduleSource
from taskiq.utils import maybe_awaitable

from ..auth.labels import on_behalf_of
from ..auth.principal import SERVICE
from .leases import Leases

logger = logging.getLogger(__name__)

LEADER_LEASE = "leader"
# Sent with each scheduled message: which occurrence of the schedule it is.
OCCURRENCE_LABEL = "schedule_occurrence"


def new_holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def occurrence_of(task: ScheduledTask, now: datetime) -> str:
    """A name for the occurrence due at ``now``, the same in every scheduler."""
    if task.cron is not None:
        minute = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")
        return f"{task.schedule_id}@{minute}"
    if task.interval is not None:
        seconds = _seconds(task.interval)
        return f"{task.schedule_id}#{int(now.timestamp() // seconds)}"
    assert task.time is not None  # taskiq requires one of the three
    return f"{task.schedule_id}@{task.time.isoformat()}"


def occurrence_memory_seconds(task: ScheduledTask) -> float:
    """How long a sent occurrence is remembered: past the time it could be due."""
    if task.cron is not None:
        return 2 * 60
    if task.interval is not None:
        return 2 * _seconds(task.interval) + 60
    return 7 * 24 * 3600


def _seconds(interval: int | timedelta) -> float:
    return interval.total_seconds() if isinstance(interval, timedelta) else interval


class LeaderElection:
    """Holds, renews or waits for the leadership lease, in the background."""

    def __init__(self, leases: Leases, *, holder: str, lease_seconds: float) -> None:
        self.leases = leases
        self.holder = holder
        self.lease_seconds = lease_seconds
        self.is_leader = False

    async def campaign(self) -> None:
        """Runs until cancelled; renews well before the lease could lapse."""
        while True:
            try:
                leading = await self.leases.acquire(
                    LEADER_LEASE, self.holder, self.lease_seconds
                )
            except Exception:
                # Leadership that cannot be proven is not assumed.
                logger.exception("Cannot reach the leadership lease")
                leading = False
            if leading:
                await _quietly(self.leases.purge_expired())
            if leading != self.is_leader:
                logger.info(
                    "Scheduler %s %s",
                    self.holder,
                    "now leads" if leading else "no longer leads",
                )
            self.is_leader = leading
            await asyncio.sleep(self.lease_seconds / 4)

    async def resign(self) -> None:
        """Let a follower take over at once instead of after the lease."""
        self.is_leader = False
        await self.leases.release(LEADER_LEASE, self.holder)


class StableLabelScheduleSource(LabelScheduleSource):
    """Schedules declared in code (``schedule`` labels) with stable ids.

    taskiq's source gives a schedule without a ``schedule_id`` a random id at
    every start, so two schedulers would not know they are sending the same
    occurrence. Here such a schedule gets ``<task name>#<position>``.
    """

    async def startup(self) -> None:
        for task_name, task in self.broker.get_all_tasks().items():
            for position, schedule in enumerate(task.labels.get("schedule", [])):
                schedule.setdefault("schedule_id", f"{task_name}#{position}")
        await super().startup()


class LeaderSchedulerLoop(SchedulerLoop):
    """taskiq's loop, deciding nothing while this scheduler does not lead."""

    def __init__(self, scheduler: TaskiqScheduler, election: LeaderElection) -> None:
        super().__init__(scheduler)
        self.election = election

    def _is_schedule_ready_to_send(self, task: ScheduledTask, now: datetime) -> bool:
        if not self.election.is_leader:
            return False
        if not super()._is_schedule_ready_to_send(task, now):
            return False
        task.labels = {**task.labels, OCCURRENCE_LABEL: occurrence_of(task, now)}
        return True

    def forget_last_run(self, schedule_id: str) -> None:
        """Make a schedule due again on the next tick (its send failed)."""
        self.cron_tasks_last_run.pop(schedule_id, None)
        self.interval_tasks_last_run.pop(schedule_id, None)
        self.time_tasks_last_run.pop(schedule_id, None)


class ExactlyOnceScheduler(TaskiqScheduler):
    """Sends an occurrence only under its claim; a failed send is retried."""

    def __init__(
        self,
        broker: AsyncBroker,
        sources: list[ScheduleSource],
        *,
        leases: Leases,
        holder: str,
        send_timeout_seconds: float,
    ) -> None:
        super().__init__(broker, sources)
        self.leases = leases
        self.holder = holder
        self.send_timeout_seconds = send_timeout_seconds
        self.loop: LeaderSchedulerLoop | None = None

    async def on_ready(self, source: ScheduleSource, task: ScheduledTask) -> None:
        occurrence = task.labels[OCCURRENCE_LABEL]
        claim = f"sent:{occurrence}"
        # The claim outlives a send that times out, so no one else sends while
        # ours may still arrive; a scheduler that dies holding it lets it lapse.
        claim_seconds = 2 * self.send_timeout_seconds
        try:
            # Not reentrant: this scheduler does not send an occurrence twice
            # either (an interval can fall due twice in one window).
            claimed = await self.leases.claim(claim, self.holder, claim_seconds)
        except Exception:
            logger.exception("Cannot claim %s; trying again", occurrence)
            self._retry_later(task)
            return
        if not claimed:
            logger.info("%s was already sent", occurrence)
            return
        try:
            await maybe_awaitable(source.pre_send(task))
        except ScheduledTaskCancelledError:
            logger.info("Scheduled task %s has been cancelled", task.task_name)
            return
        try:
            async with asyncio.timeout(self.send_timeout_seconds):
                await self._send(task)
        except Exception:
            logger.exception("Cannot send %s; trying again", occurrence)
            await _quietly(self.leases.release(claim, self.holder))
            self._retry_later(task)
            return
        logger.info("Sent %s (task %s)", occurrence, task.task_name)
        # Remembered as sent for as long as the occurrence could be due again.
        await _quietly(
            self.leases.acquire(claim, self.holder, occurrence_memory_seconds(task))
        )
        await _quietly(maybe_awaitable(source.post_send(task)))

    def _retry_later(self, task: ScheduledTask) -> None:
        if self.loop is not None:
            self.loop.forget_last_run(task.schedule_id)

    async def _send(self, task: ScheduledTask) -> None:
        await (
            AsyncKicker(task.task_name, self.broker, task.labels)
            # Scheduled tasks run as the service itself, whoever stored them.
            .with_labels(schedule_id=task.schedule_id, **on_behalf_of(SERVICE))
            .with_task_id(task_id=task.task_id)
            .kiq(*task.args, **task.kwargs)
        )


async def run_scheduler(
    scheduler: ExactlyOnceScheduler,
    election: LeaderElection,
    *,
    fire_on_start: bool,
) -> None:
    """Run until cancelled (SIGTERM); then hand leadership over at once."""
    started: list[ScheduleSource] = []
    campaign: asyncio.Task[None] | None = None
    try:
        for source in scheduler.sources:
            await source.startup()
            started.append(source)
        await scheduler.startup()
        campaign = asyncio.create_task(election.campaign())
        logger.info("Scheduler %s started", election.holder)
        loop = LeaderSchedulerLoop(scheduler, election)
        scheduler.loop = loop
        await loop.run(
            # Schedules added over HTTP are seen within a second.
            update_interval=timedelta(seconds=1),
            # taskiq sends cron schedules due in the start-up minute unless told.
            skip_first_run=not fire_on_start,
        )
    finally:
        if campaign is not None:
            campaign.cancel()
            await asyncio.gather(campaign, return_exceptions=True)
        await _quietly(election.resign())
        await _quietly(scheduler.shutdown())
        for source in reversed(started):
            await _quietly(source.shutdown())


async def _quietly(step: Awaitable[object]) -> None:
    """Log a failure of a step that must not stop what follows."""
    try:
        await step
    except Exception:
        logger.exception("Scheduler step failed")
