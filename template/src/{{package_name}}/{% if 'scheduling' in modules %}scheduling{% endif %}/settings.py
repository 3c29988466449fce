from functools import lru_cache
from typing import Literal, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class SchedulingSettings(BaseSettings):
    """This module's own knobs, from the same ``APP_*`` environment."""

    model_config = SettingsConfigDict(
        env_prefix="APP_", env_file=".env", extra="ignore", frozen=True
    )

    environment: Literal["development", "test", "production"] = "development"
    # A leader that stops renewing its lease (crashed, cut off) is replaced
    # after this long; a leader that stops cleanly hands over at once.
    scheduler_lease_seconds: float = Field(default=10.0, ge=1)
    # Bearer token for /schedules. Outside production it may stay unset, and
    # the endpoints are open (a warning is logged).
    schedules_api_token: SecretStr | None = None

    @model_validator(mode="after")
    def _refuse_open_endpoints_in_production(self) -> Self:
        token = self.schedules_api_token
        if self.environment == "production" and (
            token is None or len(token.get_secret_value()) < 32
        ):
            raise ValueError(
                "unsafe production settings: APP_SCHEDULES_API_TOKEN must be set to a "
                "random value of at least 32 characters"
            )
        return self


@lru_cache
def get_scheduling_settings() -> SchedulingSettings:
    return SchedulingSettings()
