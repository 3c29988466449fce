"""Who may join a room, and post to it: the room comes from the caller's
access token (the service's own, or an identity provider's).

A principal may use room ``R`` when it is an admin, when its token grants the
scope ``room:R`` (or ``room:*``), or when ``R`` is its personal room
``user-<id>``, where tasks it sends report to it.
"""

import re
from typing import Annotated

from fastapi import Depends, HTTPException, Path, WebSocket, WebSocketException, status

from ..auth.principal import Principal
from ..auth.rules import access_rule
from ..auth.verification import AuthUnavailableError, InvalidTokenError, TokenVerifier
from ..deps import CurrentPrincipal
from .schemas import ROOM_PATTERN

# Close codes (RFC 6455). Before the handshake is accepted, a close is sent to
# the client as HTTP 403.
POLICY_VIOLATION = 1008
TRY_AGAIN_LATER = 1013

# Browsers cannot set an Authorization header on a WebSocket: the token is
# offered as `Sec-WebSocket-Protocol: bearer, <token>` (never in the URL,
# where access logs would keep it).
BEARER_SUBPROTOCOL = "bearer"

RoomName = Annotated[str, Path(pattern=ROOM_PATTERN)]


def personal_room(principal: Principal) -> str | None:
    return f"user-{principal.user_id}" if principal.user_id is not None else None


def may_use_room(principal: Principal, room: str) -> bool:
    return (
        principal.is_admin
        or principal.has_scope(f"room:{room}")
        or principal.has_scope("room:*")
        or room == personal_room(principal)
    )


@access_rule(
    "restricted", "a principal granted the room (token in the bearer subprotocol)"
)
async def room_member(websocket: WebSocket, room: str) -> Principal:
    """The principal joining ``room``; the handshake is refused otherwise."""
    if not re.fullmatch(ROOM_PATTERN, room):
        raise WebSocketException(
            POLICY_VIOLATION, "room names are 1-64 letters, digits, '-' or '_'"
        )
    offered = websocket.scope.get("subprotocols", [])
    if len(offered) != 2 or offered[0] != BEARER_SUBPROTOCOL:
        raise WebSocketException(
            POLICY_VIOLATION,
            "send the access token as Sec-WebSocket-Protocol: bearer, <token>",
        )
    verifier: TokenVerifier = websocket.state.token_verifier
    try:
        principal = await verifier.verify(offered[1])
    except InvalidTokenError as exc:
        raise WebSocketException(POLICY_VIOLATION, f"invalid token: {exc}") from exc
    except AuthUnavailableError as exc:
        raise WebSocketException(TRY_AGAIN_LATER, str(exc)) from exc
    if not may_use_room(principal, room):
        raise WebSocketException(
            POLICY_VIOLATION, f"the token does not grant room {room!r}"
        )
    return principal


@access_rule("restricted", "a principal granted the room")
async def room_poster(room: RoomName, principal: CurrentPrincipal) -> Principal:
    if not may_use_room(principal, room):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, f"the token does not grant room {room!r}"
        )
    return principal


RoomMember = Annotated[Principal, Depends(room_member)]
RoomPoster = Annotated[Principal, Depends(room_poster)]
