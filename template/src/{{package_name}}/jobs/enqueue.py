"""Sending a task from a request: fast failure instead of a hung request."""

import asyncio
from typing import ParamSpec, TypeVar

from fastapi import Request, status
from fastapi.responses import JSONResponse
from taskiq import AsyncTaskiqTask
from taskiq.exceptions import SendTaskError
from taskiq.kicker import AsyncKicker

Params = ParamSpec("Params")
Returns = TypeVar("Returns")

RETRY_AFTER_SECONDS = 5


class QueueUnavailableError(Exception):
    """The broker did not take the task: nothing was enqueued."""


async def enqueue(
    kicker: AsyncKicker[Params, Returns],
    timeout_seconds: float,
    *args: Params.args,
    **kwargs: Params.kwargs,
) -> AsyncTaskiqTask[Returns]:
    """``kicker.kiq(*args, **kwargs)``, failing within ``timeout_seconds``."""
    try:
        async with asyncio.timeout(timeout_seconds):
            return await kicker.kiq(*args, **kwargs)
    except TimeoutError as exc:
        message = f"the task queue did not answer within {timeout_seconds} s"
        raise QueueUnavailableError(message) from exc
    except SendTaskError as exc:
        cause = exc.__cause__ or exc
        message = f"the task queue refused the task: {type(cause).__name__}: {cause}"
        raise QueueUnavailableError(message) from exc


async def queue_unavailable_handler(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(
        {"detail": f"Service temporarily unavailable: {exc}; retry later."},
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )
