"""``X-Request-ID``: taken from the client when it is safe, generated otherwise,
returned in the response and kept in ``context.request_id`` while the request
runs (so that log lines and the tasks it sends carry it)."""

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import context

HEADER = "X-Request-ID"


class RequestIdMiddleware:
    """A plain ASGI middleware: unlike ``BaseHTTPMiddleware``, the route runs in
    the same context, so the id it sets is the one the route and its logs see."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Every connection (HTTP requests and socket handshakes) gets an id.
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        given = _header(scope, HEADER.lower().encode("latin-1"))
        request_id = (
            given if given and context.is_safe_id(given) else context.new_request_id()
        )

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[HEADER] = request_id
            await send(message)

        token = context.request_id.set(request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            context.request_id.reset(token)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value).decode("latin-1")
    return None
