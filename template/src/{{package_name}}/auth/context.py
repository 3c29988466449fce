"""The principal the running code acts for, as context variables.

An API request sets it once its bearer token is verified; a worker sets it from
the task's label before the task runs. A task sent meanwhile carries it (see
``labels.py``), as it carries the request id.
"""

from contextvars import ContextVar

from .principal import Principal

acting_principal: ContextVar[Principal | None] = ContextVar(
    "acting_principal", default=None
)
# True while a worker runs a task: its principal comes from the message, never
# from a header.
in_task: ContextVar[bool] = ContextVar("in_task", default=False)
