"""Fetch-or-404 with the access check, for every route that shows a job."""

from typing import Annotated

from fastapi import HTTPException, Path, status

from ..auth.rules import access_rule
from ..deps import BrokerDep, CurrentPrincipal
from .schemas import Job
from .service import get_job

# Job ids are what taskiq gives every task (uuid4, hex). Checked before any
# lookup: an id is never a free-form key into the result store.
JobId = Annotated[
    str,
    Path(pattern=r"^[0-9a-f]{32}$", description="A job id, as the API returned it"),
]


@access_rule("owner", "the principal whose request sent the job, or role admin")
async def readable_job(
    job_id: JobId, principal: CurrentPrincipal, broker: BrokerDep
) -> Job:
    # Someone else's job answers exactly as an unknown id does.
    job = await get_job(broker.result_backend, job_id)
    if job is None or not (principal.is_admin or job.owner == principal.subject):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No job with id {job_id!r}")
    return job
