from functools import lru_cache
from typing import Literal, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Refused in production (see below): it only lets development start as is.
DEVELOPMENT_SECRET = "development-only-websocket-secret"  # noqa: S105


class WebSocketSettings(BaseSettings):
    """This module's own knobs, from the same ``APP_*`` environment."""

    model_config = SettingsConfigDict(
        env_prefix="APP_", env_file=".env", extra="ignore", frozen=True
    )

    environment: Literal["development", "test", "production"] = "development"
    # HS256 key of the tokens clients present (a JWT your login service signs).
    ws_token_secret: SecretStr = SecretStr(DEVELOPMENT_SECRET)
    # The server pings this often; a client silent for two intervals is dropped.
    ws_heartbeat_seconds: float = Field(default=20.0, gt=0)
    # Frames waiting for a slow client; past this it is disconnected.
    ws_send_queue_size: int = Field(default=100, ge=1)
    ws_max_message_bytes: int = Field(default=16 * 1024, ge=64)
    # Invalid frames tolerated per connection before it is closed.
    ws_max_invalid_frames: int = Field(default=5, ge=1)

    @model_validator(mode="after")
    def _refuse_development_secret(self) -> Self:
        secret = self.ws_token_secret.get_secret_value()
        if self.environment == "production" and (
            secret == DEVELOPMENT_SECRET or len(secret) < 32
        ):
            raise ValueError(
                "unsafe production settings: APP_WS_TOKEN_SECRET must be set to a "
                "random value of at least 32 characters"
            )
        return self


@lru_cache
def get_websocket_settings() -> WebSocketSettings:
    return WebSocketSettings()
