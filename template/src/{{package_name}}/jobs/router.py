from fastapi import APIRouter, HTTPException, status

from ..deps import BrokerDep
from .schemas import Job
from .service import get_job

router = APIRouter(prefix="/jobs", tags=["jobs"])


@router.get("/{job_id}", responses={404: {"description": "Unknown job id"}})
async def read_job(job_id: str, broker: BrokerDep) -> Job:
    job = await get_job(broker.result_backend, job_id)
    if job is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No job with id {job_id!r}")
    return job
