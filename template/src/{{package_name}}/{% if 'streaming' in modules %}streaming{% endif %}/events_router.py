import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header
from fastapi.sse import EventSourceResponse, ServerSentEvent

from ..deps import JobEventsDep
from ..jobs.dependencies import readable_job
from ..jobs.events import FAILED, FINAL_EVENTS, START, SUCCEEDED, JobEventLog
from ..jobs.schemas import Job, JobStatus
from ..openapi import NOT_SIGNED_IN
from .events import JobEventHub
from .settings import StreamingSettings, get_streaming_settings

router = APIRouter(prefix="/jobs", tags=["streaming"])

_hubs: dict[int, JobEventHub] = {}


def get_job_event_hub(events: JobEventsDep) -> JobEventHub:
    """One hub per event log, so one reader per process serves every client."""
    return _hubs.setdefault(id(events), JobEventHub(events))


LastEventId = Annotated[
    str,
    Header(
        alias="Last-Event-ID",
        # Both parts fit a 64-bit integer, as the event stores need.
        pattern=r"^\d{1,18}-\d{1,18}$",
        description="Sent by a reconnecting EventSource: resume after this event.",
    ),
]


@router.get(
    "/{job_id}/events",
    response_class=EventSourceResponse,
    responses={
        **NOT_SIGNED_IN,
        404: {"description": "Unknown job id, or not yours"},
    },
)
async def follow_job(
    # Checked before the stream starts: an unknown id is a plain 404.
    job: Annotated[Job, Depends(readable_job)],
    hub: Annotated[JobEventHub, Depends(get_job_event_hub)],
    events: JobEventsDep,
    settings: Annotated[StreamingSettings, Depends(get_streaming_settings)],
    last_event_id: LastEventId = START,
) -> AsyncIterator[ServerSentEvent]:
    """The job's events as they happen: ``running``, ``progress`` (what the task
    reports), then ``succeeded`` or ``failed``, after which the stream ends."""
    if job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED):
        async for ending in _finished_job(job, events, last_event_id):
            yield ending
        return
    async with hub.subscribe(job.id, last_event_id) as subscription:
        while True:
            try:
                async with asyncio.timeout(settings.sse_keepalive_seconds):
                    event = await subscription.queue.get()
            except TimeoutError:
                yield ServerSentEvent(comment="keep-alive")
                continue
            yield ServerSentEvent(id=event.id, event=event.name, data=event.data)
            if event.name in FINAL_EVENTS:
                return


async def _finished_job(
    job: Job, events: JobEventLog, after: str
) -> AsyncIterator[ServerSentEvent]:
    """What is left of a finished job's events; its end from the result itself
    when its events are gone (expired, or sent before this module existed)."""
    history = (await events.read({job.id: after}, wait_seconds=0)).get(job.id, [])
    for event in history:
        yield ServerSentEvent(id=event.id, event=event.name, data=event.data)
    if not any(event.name in FINAL_EVENTS for event in history) and after == START:
        if job.status is JobStatus.SUCCEEDED:
            yield ServerSentEvent(event=SUCCEEDED, data={"result": job.result})
        else:
            yield ServerSentEvent(event=FAILED, data={"error": job.error})
