from typing import Annotated

from fastapi import Depends

from ..deps import require_scope
from ..settings import get_settings
from .store import ScheduleStore, create_schedule_store

# One per process, like the broker: opened on first use, closed by lifespan.py.
schedule_store = create_schedule_store(get_settings())


def get_schedule_store() -> ScheduleStore:
    return schedule_store


ScheduleStoreDep = Annotated[ScheduleStore, Depends(get_schedule_store)]

# Managing schedules runs tasks: admins, and service accounts (or an identity
# provider's clients) granted this scope.
SCHEDULES_SCOPE = "schedules"
ManagesSchedules = Depends(require_scope(SCHEDULES_SCOPE))
