from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class StreamingSettings(BaseSettings):
    """This module's own knobs, from the same ``APP_*`` environment."""

    model_config = SettingsConfigDict(
        env_prefix="APP_", env_file=".env", extra="ignore", frozen=True
    )

    # A comment line this often keeps proxies from closing a quiet event stream.
    sse_keepalive_seconds: float = Field(default=15.0, gt=0)


@lru_cache
def get_streaming_settings() -> StreamingSettings:
    return StreamingSettings()
