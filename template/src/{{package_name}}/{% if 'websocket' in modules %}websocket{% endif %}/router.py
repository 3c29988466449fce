import asyncio
import contextlib
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, WebSocket, status
from pydantic import BaseModel, TypeAdapter, ValidationError

from ..auth.principal import Principal
from ..deps import SettingsDep
from ..jobs.enqueue import enqueue
from ..openapi import NOT_SIGNED_IN
from .access import (
    BEARER_SUBPROTOCOL,
    POLICY_VIOLATION,
    TRY_AGAIN_LATER,
    RoomMember,
    RoomName,
    room_poster,
)
from .rooms import Member, hub
from .schemas import ChatIn, ChatOut, ClientFrame, ErrorOut, PingOut
from .settings import WebSocketSettings, get_websocket_settings
from .tasks import summarise_users_for_room

router = APIRouter(tags=["websocket"])

WebSocketSettingsDep = Annotated[WebSocketSettings, Depends(get_websocket_settings)]

# Close codes (RFC 6455 and this service's own, 4000-4999), besides those of
# access.py: 1008 for a bad token or room and repeated invalid frames, 1013
# for a client too slow to keep up with the room.
MESSAGE_TOO_BIG = 1009
HEARTBEAT_TIMEOUT = 4408  # no frame (not even a pong) for two heartbeats

client_frames: TypeAdapter[ClientFrame] = TypeAdapter(ClientFrame)


@router.websocket("/ws/rooms/{room}")
async def room_socket(
    websocket: WebSocket,
    room: str,
    principal: RoomMember,
    settings: WebSocketSettingsDep,
) -> None:
    """Join ``room``: receive every frame sent to it, from any API process.
    The access token travels as ``Sec-WebSocket-Protocol: bearer, <token>``;
    a refused token or room ends the handshake with HTTP 403."""
    # Before accept(): a stop signal from now on closes this socket with 1001.
    hub.close_members_on_exit_signal()
    await websocket.accept(subprotocol=BEARER_SUBPROTOCOL)
    member = Member(websocket, settings.ws_send_queue_size)
    async with hub.membership(room, member):
        code, reason = await _serve(websocket, member, room, principal, settings)
    if code is not None:
        # RuntimeError: closed meanwhile (the server is shutting down).
        with contextlib.suppress(RuntimeError):
            await websocket.close(code, reason)


async def _serve(
    websocket: WebSocket,
    member: Member,
    room: str,
    principal: Principal,
    settings: WebSocketSettings,
) -> tuple[int | None, str]:
    """Run the member's send, receive and heartbeat loops until one ends; the
    close code and reason (None: the client left)."""
    receiving = asyncio.create_task(
        _receive(websocket, member, room, principal, settings)
    )
    tasks = [
        receiving,
        asyncio.create_task(_send(websocket, member)),
        asyncio.create_task(_ping(member, settings.ws_heartbeat_seconds)),
        asyncio.create_task(member.overflowed.wait()),
    ]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    if member.overflowed.is_set():
        return TRY_AGAIN_LATER, "too slow: the send queue overflowed"
    if receiving.cancelled() or receiving.exception() is not None:
        return None, ""  # The client left (a send or receive failed).
    return receiving.result()


async def _send(websocket: WebSocket, member: Member) -> None:
    while True:
        await websocket.send_text(await member.outbox.get())


async def _ping(member: Member, interval: float) -> None:
    ping = PingOut().model_dump_json()
    while True:
        await asyncio.sleep(interval)
        member.offer(ping)


async def _receive(
    websocket: WebSocket,
    member: Member,
    room: str,
    principal: Principal,
    settings: WebSocketSettings,
) -> tuple[int | None, str]:
    invalid = 0
    while True:
        try:
            async with asyncio.timeout(2 * settings.ws_heartbeat_seconds):
                message = await websocket.receive()
        except TimeoutError:
            return HEARTBEAT_TIMEOUT, "no frame for two heartbeats"
        if message["type"] == "websocket.disconnect":
            return None, ""
        text = message.get("text")
        raw = text.encode() if text is not None else message.get("bytes") or b""
        if len(raw) > settings.ws_max_message_bytes:
            return (
                MESSAGE_TOO_BIG,
                f"frames are at most {settings.ws_max_message_bytes} bytes",
            )
        try:
            if text is None:
                raise ValueError("binary frames are not accepted: send JSON text")
            frame = client_frames.validate_json(text)
        except (ValidationError, ValueError) as exc:
            invalid += 1
            if invalid >= settings.ws_max_invalid_frames:
                return POLICY_VIOLATION, "too many invalid frames"
            detail = (
                exc.errors(include_url=False)
                if isinstance(exc, ValidationError)
                else str(exc)
            )
            member.offer(ErrorOut(detail=detail).model_dump_json())
            continue
        if isinstance(frame, ChatIn):
            await hub.publish(
                room,
                ChatOut(
                    room=room,
                    sender=principal.subject,
                    text=frame.text,
                    sent_at=datetime.now(UTC),
                ),
            )


class SummaryAccepted(BaseModel):
    job_id: str
    room: str


@router.post(
    "/ws/rooms/{room}/summary",
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[Depends(room_poster)],
    responses={
        **NOT_SIGNED_IN,
        403: {"description": "The token does not grant this room"},
        503: {"description": "The task queue is unavailable"},
    },
)
async def request_room_summary(
    room: RoomName, settings: SettingsDep
) -> SummaryAccepted:
    """Have a worker compute a summary and push it to the room's members. The
    job is the caller's: the task checks the room against their principal."""
    task = await enqueue(
        summarise_users_for_room.kicker(), settings.broker_timeout_seconds, room
    )
    return SummaryAccepted(job_id=task.task_id, room=room)
