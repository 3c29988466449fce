"""The tasks that may be scheduled over HTTP, and the arguments each accepts.

Only what is listed here can be scheduled by a client: a task name from a
request is never looked up on the broker directly. Add an entry to make another
task schedulable.
"""

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, PositiveInt
from taskiq import AsyncTaskiqDecoratedTask

from ..users.tasks import send_welcome_email
from .tasks import purge_expired


class NoArguments(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WelcomeEmailArguments(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: PositiveInt


@dataclass(frozen=True)
class Schedulable:
    task: AsyncTaskiqDecoratedTask[Any, Any]
    arguments: type[BaseModel]


SCHEDULABLE: dict[str, Schedulable] = {
    entry.task.task_name: entry
    for entry in (
        Schedulable(purge_expired, NoArguments),
        Schedulable(send_welcome_email, WelcomeEmailArguments),
    )
}
