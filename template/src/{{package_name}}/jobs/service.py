from typing import Any

from taskiq import AsyncResultBackend

from ..auth.labels import owner_of
from .schemas import Job, JobStatus
from .tracking import QUEUED


async def get_job(results: AsyncResultBackend[Any], job_id: str) -> Job | None:
    """The job's state from the result backend; ``None`` for an unknown id."""
    if await results.is_result_ready(job_id):
        result = await results.get_result(job_id)
        owner = owner_of(result.labels)
        if result.is_err:
            error = result.error
            message = f"{type(error).__name__}: {error}" if error else "unknown error"
            return Job(id=job_id, status=JobStatus.FAILED, error=message, owner=owner)
        return Job(
            id=job_id,
            status=JobStatus.SUCCEEDED,
            result=result.return_value,
            owner=owner,
        )

    progress = await results.get_progress(job_id)
    if progress is None:
        return None
    # Records written before jobs had owners hold the progress alone.
    record = progress.meta if isinstance(progress.meta, dict) else {}
    owner = record.get("owner") if isinstance(record.get("owner"), str) else None
    if progress.state == QUEUED:
        return Job(id=job_id, status=JobStatus.QUEUED, owner=owner)
    return Job(
        id=job_id,
        status=JobStatus.RUNNING,
        progress=record.get("progress"),
        owner=owner,
    )
