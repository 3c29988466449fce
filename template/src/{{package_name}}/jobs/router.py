from typing import Annotated

from fastapi import APIRouter, Depends

from ..openapi import NOT_SIGNED_IN
from .dependencies import readable_job
from .schemas import Job

router = APIRouter(prefix="/jobs", tags=["jobs"])


@router.get(
    "/{job_id}",
    responses={
        **NOT_SIGNED_IN,
        404: {"description": "Unknown job id, or not yours"},
    },
)
async def read_job(job: Annotated[Job, Depends(readable_job)]) -> Job:
    return job
