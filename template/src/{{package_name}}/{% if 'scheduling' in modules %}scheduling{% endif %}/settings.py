from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class SchedulingSettings(BaseSettings):
    """This module's own knobs, from the same ``APP_*`` environment."""

    model_config = SettingsConfigDict(
        env_prefix="APP_", env_file=".env", extra="ignore", frozen=True
    )

    # A leader that stops renewing its lease (crashed, cut off) is replaced
    # after this long; a leader that stops cleanly hands over at once.
    scheduler_lease_seconds: float = Field(default=10.0, ge=1)


@lru_cache
def get_scheduling_settings() -> SchedulingSettings:
    return SchedulingSettings()
