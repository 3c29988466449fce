from fastapi import APIRouter, HTTPException, status

from ..deps import DBSession
from . import service
from .schemas import UserCreate, UserCreated, UserRead
from .tasks import send_welcome_email

router = APIRouter(prefix="/users", tags=["users"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "The e-mail address is already registered"}},
)
async def register_user(data: UserCreate, session: DBSession) -> UserCreated:
    """Create the user, then hand the welcome e-mail to a worker: the response
    does not wait for the e-mail."""
    try:
        user = await service.create_user(session, data)
    except service.EmailAlreadyRegisteredError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    # Commit before enqueueing, or the worker may look for a row it cannot see.
    await session.commit()
    job = await send_welcome_email.kiq(user.id)
    return UserCreated(
        id=user.id,
        email=user.email,
        created_at=user.created_at,
        welcome_email_job_id=job.task_id,
    )


# `:int` keeps paths such as /users/export.csv out of this route.
@router.get("/{user_id:int}", responses={404: {"description": "Unknown user"}})
async def read_user(user_id: int, session: DBSession) -> UserRead:
    user = await service.get_user(session, user_id)
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No user with id {user_id}")
    return UserRead.model_validate(user)
