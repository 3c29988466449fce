from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Job(BaseModel):
    id: str
    status: JobStatus
    progress: Any = None
    result: Any = None
    error: str | None = None
    owner: str | None = Field(
        default=None,
        description="Subject of the principal whose request sent the job",
    )
