"""Bounds on calls to external services (SMTP, HTTP APIs…).

Without a bound, a burst of tasks opens as many connections as it has tasks and
a slow service holds every one of them: cap the calls in flight per process
with a semaphore and give each call, waiting for its turn included, a deadline.
"""

import asyncio
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

Params = ParamSpec("Params")
Returns = TypeVar("Returns")


class ExternalCallTimeoutError(TimeoutError):
    # Rebuilt from its ``args`` when read back from the result backend.
    def __init__(self, service: str, timeout_seconds: float) -> None:
        super().__init__(service, timeout_seconds)
        self.service, self.timeout_seconds = service, timeout_seconds

    def __str__(self) -> str:
        return f"{self.service} did not answer within {self.timeout_seconds} s"


class CallLimiter:
    def __init__(
        self, service: str, *, max_concurrent: int, timeout_seconds: float
    ) -> None:
        if max_concurrent < 1 or timeout_seconds <= 0:
            raise ValueError("max_concurrent must be >= 1 and timeout_seconds > 0")
        self.service = service
        self.max_concurrent = max_concurrent
        self.timeout_seconds = timeout_seconds
        self._semaphore = asyncio.Semaphore(max_concurrent)

    async def call(
        self,
        function: Callable[Params, Awaitable[Returns]],
        *args: Params.args,
        **kwargs: Params.kwargs,
    ) -> Returns:
        try:
            async with asyncio.timeout(self.timeout_seconds), self._semaphore:
                return await function(*args, **kwargs)
        except TimeoutError as exc:
            raise ExternalCallTimeoutError(self.service, self.timeout_seconds) from exc
