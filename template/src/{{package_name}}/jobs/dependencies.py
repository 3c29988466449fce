"""Fetch-or-404 with the access check, for every route that shows a job."""

from fastapi import HTTPException, status

from ..auth.rules import access_rule
from ..deps import BrokerDep, CurrentPrincipal
from .schemas import Job
from .service import get_job


@access_rule("owner", "the principal whose request sent the job, or role admin")
async def readable_job(
    job_id: str, principal: CurrentPrincipal, broker: BrokerDep
) -> Job:
    # Someone else's job answers exactly as an unknown id does.
    job = await get_job(broker.result_backend, job_id)
    if job is None or not (principal.is_admin or job.owner == principal.subject):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No job with id {job_id!r}")
    return job
