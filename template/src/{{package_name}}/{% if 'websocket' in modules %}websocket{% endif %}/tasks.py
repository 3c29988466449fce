from typing import Annotated, Any

from fastapi import Depends
from sqlalchemy import func, select
from taskiq import Context, TaskiqDepends

from ..deps import INJECTED, CurrentPrincipal, DBSession
from ..users.models import User
from ..worker.broker import broker
from .access import may_use_room
from .rooms import RoomHub, hub
from .schemas import JobOut


def get_room_hub() -> RoomHub:
    return hub


RoomsDep = Annotated[RoomHub, Depends(get_room_hub)]


@broker.task(task_name="websocket.summarise_users_for_room")
async def summarise_users_for_room(
    room: str,
    session: DBSession = INJECTED,
    rooms: RoomsDep = INJECTED,
    context: Annotated[Context, TaskiqDepends()] = INJECTED,
    principal: CurrentPrincipal = INJECTED,
) -> dict[str, Any]:
    """Runs in a worker and pushes its result to the room's members, wherever
    they are connected, through the backplane in the shared graph."""
    # The principal of the request that sent it (auth/labels.py): a task
    # writes only into rooms its sender may use, however it was sent.
    if not may_use_room(principal, room):
        raise PermissionError(f"{principal.subject} may not post to room {room!r}")
    users = await session.scalar(select(func.count()).select_from(User)) or 0
    result = {"users": users}
    job_id = context.message.task_id
    await rooms.publish(
        room, JobOut(room=room, job_id=job_id, status="succeeded", result=result)
    )
    return result
