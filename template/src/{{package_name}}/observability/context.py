"""The request id and task id of the code running now, as context variables.

A context variable follows the code that set it into everything it awaits and
into ``asyncio.to_thread``, and no further: concurrent requests and tasks never
see each other's ids.
"""

import re
import uuid
from contextvars import ContextVar

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
task_id: ContextVar[str | None] = ContextVar("task_id", default=None)

# Ids end up in log lines and headers: letters, digits and a few separators
# only, so that a client cannot forge a log line or blow up a log index.
_SAFE_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")


def is_safe_id(value: str) -> bool:
    return _SAFE_ID.fullmatch(value) is not None


def new_request_id() -> str:
    return uuid.uuid4().hex
