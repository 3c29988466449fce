"""The frames of the room protocol, both ways, as JSON objects with a ``type``."""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints

# Room names travel in URLs and channel names: keep them plain.
ROOM_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"


class ChatIn(BaseModel):
    type: Literal["message"]
    text: Annotated[str, StringConstraints(min_length=1, max_length=2000)]


class PongIn(BaseModel):
    type: Literal["pong"]


ClientFrame = Annotated[ChatIn | PongIn, Field(discriminator="type")]


class ChatOut(BaseModel):
    type: Literal["message"] = "message"
    room: str
    sender: str
    text: str
    sent_at: datetime


class JobOut(BaseModel):
    """A task's outcome, pushed by the worker that ran it."""

    type: Literal["job"] = "job"
    room: str
    job_id: str
    status: Literal["succeeded", "failed"]
    result: Any = None
    error: str | None = None


class ErrorOut(BaseModel):
    type: Literal["error"] = "error"
    detail: Any


class PingOut(BaseModel):
    type: Literal["ping"] = "ping"
