from fastapi import APIRouter, Request, status
from pydantic import BaseModel, Field

from ..deps import AdminOnly, SettingsDep
from ..jobs.enqueue import enqueue
from ..openapi import ADMINS_ONLY
from .tasks import build_users_report


class ReportRequest(BaseModel):
    batch_size: int = Field(default=500, ge=1, le=10_000)


class ReportAccepted(BaseModel):
    job_id: str
    status_url: str
    events_url: str


router = APIRouter(prefix="/users", tags=["streaming"])


@router.post(
    "/report",
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[AdminOnly],
    responses={**ADMINS_ONLY, 503: {"description": "The task queue is unavailable"}},
)
async def start_users_report(
    data: ReportRequest,
    request: Request,
    settings: SettingsDep,
) -> ReportAccepted:
    """Start the users report in a worker; follow it live at ``events_url``.
    The job is the admin's: only they (and other admins) can follow it."""
    task = await enqueue(
        build_users_report.kicker(), settings.broker_timeout_seconds, data.batch_size
    )
    # Relative URLs: built from the Host header, an absolute one would point
    # wherever a client's forged header says.
    return ReportAccepted(
        job_id=task.task_id,
        status_url=request.app.url_path_for("read_job", job_id=task.task_id),
        events_url=request.app.url_path_for("follow_job", job_id=task.task_id),
    )
