import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ..settings import get_settings
from .settings import SchedulingSettings, get_scheduling_settings
from .store import ScheduleStore, create_schedule_store

# One per process, like the broker: opened on first use, closed by lifespan.py.
schedule_store = create_schedule_store(get_settings())


def get_schedule_store() -> ScheduleStore:
    return schedule_store


ScheduleStoreDep = Annotated[ScheduleStore, Depends(get_schedule_store)]

_bearer = HTTPBearer(auto_error=False)


def require_schedules_token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    settings: Annotated[SchedulingSettings, Depends(get_scheduling_settings)],
) -> None:
    """Managing schedules runs tasks: it takes ``APP_SCHEDULES_API_TOKEN``."""
    expected = settings.schedules_api_token
    if expected is None:  # development only: refused at start-up in production
        return
    given = credentials.credentials if credentials is not None else ""
    if not secrets.compare_digest(given.encode(), expected.get_secret_value().encode()):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "a valid bearer token is required (APP_SCHEDULES_API_TOKEN)",
            headers={"WWW-Authenticate": "Bearer"},
        )
