from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class WebSocketSettings(BaseSettings):
    """This module's own knobs, from the same ``APP_*`` environment. Sockets
    take the service's access tokens (auth/): no secret of their own."""

    model_config = SettingsConfigDict(
        env_prefix="APP_", env_file=".env", extra="ignore", frozen=True
    )

    # The server pings this often; a client silent for two intervals is dropped.
    ws_heartbeat_seconds: float = Field(default=20.0, gt=0)
    # Frames waiting for a slow client; past this it is disconnected.
    ws_send_queue_size: int = Field(default=100, ge=1)
    ws_max_message_bytes: int = Field(default=16 * 1024, ge=64)
    # Invalid frames tolerated per connection before it is closed.
    ws_max_invalid_frames: int = Field(default=5, ge=1)


@lru_cache
def get_websocket_settings() -> WebSocketSettings:
    return WebSocketSettings()
