"""Cron expressions checked before they are stored.

taskiq matches cron with ``pycron``, which raises on a wrong number of fields but
silently accepts what it cannot match (``61 * * * *``, ``5/10 * * * *`` and
month names simply never fire). A schedule that could never run as written is
refused here, naming the field that is wrong.
"""

import re
from datetime import date, timedelta

WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
WEEKDAY_NAMES = (
    "sunday",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
)

# (name, lowest, highest) of each field, in order.
FIELDS = (
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day of month", 1, 31),
    ("month", 1, 12),
    ("day of week", 0, 6),
)
WEEKDAY_FIELD = "day of week"

# "*", "*/n", "a", "a-b" or "a-b/n": the forms pycron matches.
_ITEM = re.compile(
    r"^(?:\*(?:/(?P<star_step>\d+))?"
    r"|(?P<start>[0-9a-z]+)(?:-(?P<end>[0-9a-z]+)(?:/(?P<step>\d+))?)?)$"
)


def validate_cron(expression: str) -> str:
    """The expression, normalised to single spaces; ValueError names the problem."""
    fields = expression.lower().split()
    if len(fields) != len(FIELDS):
        raise ValueError(
            "a cron expression has 5 fields (minute hour day-of-month month "
            f"day-of-week), got {len(fields)}: {expression!r}"
        )
    for value, (name, lowest, highest) in zip(fields, FIELDS, strict=True):
        for item in value.split(","):
            _check_item(item, name, lowest, highest)
    if not _fires_on_some_day(fields):
        raise ValueError(
            f"{expression!r} never fires: no date has that day of month in that "
            "month (and on that day of week)"
        )
    return " ".join(fields)


# 28 years: every day of the month falls on every weekday, leap years included.
_CALENDAR_CYCLE = timedelta(days=10227)


def _fires_on_some_day(fields: list[str]) -> bool:
    """Whether the month and day fields match some date, as pycron matches
    them: when both day fields are restricted (no ``*``), either may match."""
    days = _expand(fields[2], *FIELDS[2])
    months = _expand(fields[3], *FIELDS[3])
    weekdays = _expand(fields[4], *FIELDS[4])
    either = "*" not in fields[2] and "*" not in fields[4]
    day, end = date(2000, 1, 1), date(2000, 1, 1) + _CALENDAR_CYCLE
    while day < end:
        on_day = day.day in days
        on_weekday = (day.weekday() + 1) % 7 in weekdays  # 0 is Sunday
        if day.month in months and (
            (on_day or on_weekday) if either else (on_day and on_weekday)
        ):
            return True
        day += timedelta(days=1)
    return False


def _expand(value: str, name: str, lowest: int, highest: int) -> set[int]:
    """The values a field (already checked) matches."""
    matched: set[int] = set()
    for item in value.split(","):
        match = _ITEM.match(item)
        assert match is not None
        step = int(match["star_step"] or match["step"] or 1)
        if match["start"] is None:
            start, end = lowest, highest
        else:
            start = _number(match["start"], name)
            end = _number(match["end"], name) if match["end"] else start
        span = (
            range(start, end + 1)
            if start <= end
            else [
                *range(start, highest + 1),
                *range(lowest, end + 1),
            ]
        )
        matched.update(list(span)[::step])
    return matched


def _check_item(item: str, name: str, lowest: int, highest: int) -> None:
    match = _ITEM.match(item)
    if match is None:
        raise ValueError(f"{name} field {item!r} is not one of *, */n, a, a-b or a-b/n")
    step = match["star_step"] or match["step"]
    if step is not None and int(step) == 0:
        raise ValueError(f"{name} field {item!r} has a step of 0")
    if match["start"] is None:
        return
    bounds = [_number(match["start"], name)]
    if match["end"] is not None:
        bounds.append(_number(match["end"], name))
    for bound in bounds:
        if not lowest <= bound <= highest:
            hint = " (0 is Sunday)" if name == WEEKDAY_FIELD else ""
            raise ValueError(
                f"{name} field {item!r} is out of range {lowest}-{highest}{hint}"
            )
    # A weekday range may wrap around the week (fri-mon); others may not.
    if len(bounds) == 2 and bounds[0] > bounds[1] and name != WEEKDAY_FIELD:
        raise ValueError(f"{name} field {item!r} is an empty range")


def _number(part: str, name: str) -> int:
    if part.isdigit():
        return int(part)
    if name == WEEKDAY_FIELD and part in WEEKDAYS:
        return WEEKDAYS.index(part)
    if name == WEEKDAY_FIELD and part in WEEKDAY_NAMES:
        return WEEKDAY_NAMES.index(part)
    raise ValueError(f"{name} field has a value that is not a number: {part!r}")
