from typing import Annotated, Any

from fastapi import Depends
from sqlalchemy import func, select
from taskiq import Context, TaskiqDepends

from ..deps import INJECTED, DBSession
from ..users.models import User
from ..worker.broker import broker
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
) -> dict[str, Any]:
    """Runs in a worker and pushes its result to the room's members, wherever
    they are connected, through the backplane in the shared graph."""
    users = await session.scalar(select(func.count()).select_from(User)) or 0
    result = {"users": users}
    job_id = context.message.task_id
    await rooms.publish(
        room, JobOut(room=room, job_id=job_id, status="succeeded", result=result)
    )
    return result
