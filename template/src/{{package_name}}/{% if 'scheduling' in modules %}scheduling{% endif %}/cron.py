"""Cron expressions checked before they are stored.

taskiq matches cron with ``pycron``, which raises on a wrong number of fields but
silently accepts what it cannot match (``61 * * * *``, ``5/10 * * * *`` and
month names simply never fire). A schedule that could never run as written is
refused here, naming the field that is wrong.
"""

import re

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
    return " ".join(fields)


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
