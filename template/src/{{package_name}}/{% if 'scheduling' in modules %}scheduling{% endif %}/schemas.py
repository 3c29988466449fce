import uuid
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, Literal, Self
from zoneinfo import ZoneInfo, available_timezones

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from taskiq import ScheduledTask

from .catalog import SCHEDULABLE
from .cron import validate_cron

MAX_INTERVAL_SECONDS = 366 * 24 * 3600


# A one-off further ahead is a mistake, and years past 9999 overflow the stores.
MAX_AHEAD = timedelta(days=10 * 365)


# Names of the system's zone files that are not zones: "localtime" is whatever
# the server is set to, the others are copies or placeholders.
_NOT_ZONES = frozenset({"localtime", "posixrules", "Factory"})


@lru_cache(maxsize=1)
def _iana_zones() -> frozenset[str]:
    return frozenset(
        name
        for name in available_timezones()
        if name not in _NOT_ZONES and not name.startswith(("posix/", "right/"))
    )


class ScheduleIn(BaseModel):
    """Exactly one of ``cron``, ``interval_seconds`` or ``at``."""

    model_config = ConfigDict(extra="forbid")

    task: str = Field(description="a task name from the service's schedulable list")
    arguments: dict[str, Any] = {}
    cron: str | None = Field(default=None, examples=["30 7 * * mon-fri"])
    interval_seconds: int | None = Field(default=None, ge=1, le=MAX_INTERVAL_SECONDS)
    at: datetime | None = Field(
        default=None, description="one-off; without an offset, read in `timezone`"
    )
    timezone: str = Field(default="UTC", description="IANA name, e.g. Europe/Paris")

    @field_validator("task")
    @classmethod
    def _schedulable(cls, task: str) -> str:
        if task not in SCHEDULABLE:
            known = ", ".join(sorted(SCHEDULABLE))
            raise ValueError(f"task {task!r} cannot be scheduled; schedulable: {known}")
        return task

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, cron: str | None) -> str | None:
        return None if cron is None else validate_cron(cron)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        # Only IANA names: "localtime" and file paths name whatever the
        # server's own files say.
        if name not in _iana_zones():
            raise ValueError(
                f"unknown time zone {name!r}: use an IANA name such as Europe/Paris"
            )
        return name

    @model_validator(mode="after")
    def _one_timing_and_valid_arguments(self) -> Self:
        given = [self.cron, self.interval_seconds, self.at]
        if sum(value is not None for value in given) != 1:
            raise ValueError("give exactly one of cron, interval_seconds or at")
        if self.at is not None:
            if self.at.tzinfo is None:
                self.at = self.at.replace(tzinfo=ZoneInfo(self.timezone))
            now = datetime.now(UTC)
            if self.at <= now:
                raise ValueError(
                    f"at must be in the future: {self.at.isoformat()} is not after "
                    f"now ({now.isoformat(timespec='seconds')})"
                )
            if self.at > now + MAX_AHEAD:
                raise ValueError(
                    f"at must be within {MAX_AHEAD.days // 365} years from now"
                )
        arguments_model = SCHEDULABLE[self.task].arguments
        try:
            checked = arguments_model.model_validate(self.arguments)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, error['loc'])) or 'arguments'}: {error['msg']}"
                for error in exc.errors()
            )
            raise ValueError(f"invalid arguments for {self.task}: {problems}") from exc
        self.arguments = checked.model_dump(mode="json")
        return self

    def to_scheduled_task(self) -> ScheduledTask:
        return ScheduledTask(
            task_name=self.task,
            labels={},
            args=[],
            kwargs=self.arguments,
            cron=self.cron,
            cron_offset=self.timezone if self.cron is not None else None,
            interval=self.interval_seconds,
            time=self.at,
            # A one-off runs as a known job, which the client can follow.
            task_id=uuid.uuid4().hex if self.at is not None else None,
        )


class ScheduleOut(BaseModel):
    id: str
    task: str
    arguments: dict[str, Any]
    cron: str | None
    # The zone a cron expression is read in.
    timezone: str | None
    interval_seconds: float | None
    at: datetime | None
    declared_in: Literal["code", "api"]
    # The job a one-off schedule runs as: GET /jobs/{job_id} follows it.
    job_id: str | None

    @classmethod
    def of(cls, schedule: ScheduledTask, declared_in: Literal["code", "api"]) -> Self:
        interval = schedule.interval
        return cls(
            id=schedule.schedule_id,
            task=schedule.task_name,
            arguments=schedule.kwargs,
            cron=schedule.cron,
            timezone=_zone_name(schedule.cron_offset) if schedule.cron else None,
            interval_seconds=(
                interval.total_seconds()
                if isinstance(interval, timedelta)
                else interval
            ),
            at=schedule.time,
            declared_in=declared_in,
            job_id=schedule.task_id,
        )


def _zone_name(offset: str | timedelta | None) -> str:
    if offset is None:
        return "UTC"
    if isinstance(offset, timedelta):
        sign = "-" if offset < timedelta(0) else "+"
        minutes = int(abs(offset).total_seconds()) // 60
        return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"
    return offset
