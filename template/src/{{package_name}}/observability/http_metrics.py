"""Counts and times every HTTP request by method, route template and status."""

import time

from starlette.routing import Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .metrics import http_request_duration, http_requests

# Paths that matched no route share one label: raw paths would let any client
# create a new time series per URL it invents.
UNMATCHED = "unmatched"


class HttpMetricsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # What the server answers when the app raises before replying.

        async def send_and_note_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note_status)
        finally:
            template = route_template(scope)
            method = scope["method"]
            http_requests.labels(method, template, str(status)).inc()
            http_request_duration.labels(method, template).observe(
                time.perf_counter() - started
            )


def route_template(scope: Scope) -> str:
    # FastAPI's routes write themselves into the shared scope.
    template = getattr(scope.get("route"), "path", None)
    if isinstance(template, str):
        return template
    # Starlette's plain routes do not: FastAPI's /docs, /redoc, /openapi.json.
    for route in getattr(getattr(scope.get("app"), "router", None), "routes", ()):
        if isinstance(route, Route) and route.matches(scope)[0] is Match.FULL:
            return route.path
    return UNMATCHED
