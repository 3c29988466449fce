import json
from typing import Any


def parse_sse(text: str) -> list[dict[str, Any]]:
    """The events of an event stream (comments skipped), as an EventSource
    would dispatch them: ``event``, ``id`` and ``data`` (decoded from JSON)."""
    events = []
    for block in text.split("\n\n"):
        fields: dict[str, Any] = {}
        for line in block.splitlines():
            name, _, value = line.partition(": ")
            fields[name] = json.loads(value) if name == "data" else value
        if "event" in fields:
            events.append(fields)
    return events
