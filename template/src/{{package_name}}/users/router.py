import uuid

from fastapi import APIRouter, HTTPException, Response, status

from ..deps import DBSession, SettingsDep
from ..idempotency import service as idempotency
from ..idempotency.service import IdempotencyKey, IdempotentRequest
from ..jobs.enqueue import QueueUnavailableError, enqueue
from . import service
from .schemas import UserCreate, UserCreated, UserRead
from .tasks import send_welcome_email

router = APIRouter(prefix="/users", tags=["users"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses={
        409: {"description": "The e-mail address is already registered"},
        422: {"description": "Invalid input, or an Idempotency-Key reused"},
        503: {"description": "The task queue is unavailable; nothing was saved"},
    },
)
async def register_user(
    data: UserCreate,
    session: DBSession,
    settings: SettingsDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> UserCreated:
    """Create the user, then hand the welcome e-mail to a worker: the response
    does not wait for the e-mail. With an ``Idempotency-Key``, a retried request
    gets the first response back instead of a 409."""
    request = idempotency_key and IdempotentRequest.of(
        "POST /users", idempotency_key, data
    )
    if request and (replay := await _replay(session, request, response)):
        return replay
    try:
        user = await service.create_user(session, data)
    except service.EmailAlreadyRegisteredError as exc:
        # A concurrent retry of this very request may have won the race.
        if request and (replay := await _replay(session, request, response)):
            return replay
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    created = UserCreated(
        id=user.id,
        email=user.email,
        created_at=user.created_at,
        # Chosen before the commit, so that the stored response names it.
        welcome_email_job_id=uuid.uuid4().hex,
    )
    if request:
        await idempotency.remember_response(session, request, created.model_dump_json())
    # Commit before enqueueing, or the worker may look for a row it cannot see.
    await session.commit()
    try:
        await _send_welcome_email(created, settings.broker_timeout_seconds)
    except QueueUnavailableError:
        # Undo the registration: the client's retry must find a clean slate.
        await service.delete_user(session, user.id)
        if request:
            await idempotency.forget(session, request)
        await session.commit()
        raise
    return created


async def _replay(
    session: DBSession, request: IdempotentRequest, response: Response
) -> UserCreated | None:
    try:
        stored = await idempotency.find_response(session, request)
    except idempotency.IdempotencyKeyReusedError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    if stored is None:
        return None
    response.headers[idempotency.REPLAYED_HEADER] = "true"
    return UserCreated.model_validate_json(stored)


async def _send_welcome_email(created: UserCreated, timeout_seconds: float) -> None:
    kicker = send_welcome_email.kicker().with_task_id(created.welcome_email_job_id)
    await enqueue(kicker, timeout_seconds, created.id)


# `:int` keeps paths such as /users/export.csv out of this route.
@router.get("/{user_id:int}", responses={404: {"description": "Unknown user"}})
async def read_user(user_id: int, session: DBSession) -> UserRead:
    user = await service.get_user(session, user_id)
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No user with id {user_id}")
    return UserRead.model_validate(user)
