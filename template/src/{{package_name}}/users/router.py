import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Response, status

from ..auth.labels import on_behalf_of
from ..auth.principal import Principal
from ..deps import (
    ClientAddress,
    CurrentPrincipal,
    DBSession,
    OptionalPrincipal,
    RateLimitsDep,
    SessionmakerDep,
    SettingsDep,
)
from ..idempotency import service as idempotency
from ..idempotency.service import IdempotencyKey, IdempotentRequest
from ..jobs.enqueue import QueueUnavailableError, enqueue
from ..openapi import NOT_SIGNED_IN, Responses
from . import service
from .dependencies import readable_user, registration_allowed
from .models import User
from .schemas import UserCreate, UserCreated, UserRead
from .tasks import send_welcome_email

router = APIRouter(prefix="/users", tags=["users"])

NOT_FOUND: Responses = {
    **NOT_SIGNED_IN,
    404: {"description": "No such user, or not yours to read"},
}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(registration_allowed)],
    responses={
        401: {"description": "Registration is admin-only: sign in as an admin"},
        403: {"description": "Registration is closed, or admin-only"},
        409: {
            "description": "The e-mail address is already registered, or a "
            "request with this Idempotency-Key is still being processed"
        },
        422: {"description": "Invalid input, or an Idempotency-Key reused"},
        429: {"description": "Too many registrations: see Retry-After"},
        503: {"description": "The task queue is unavailable; nothing was saved"},
    },
)
async def register_user(
    data: UserCreate,
    session: DBSession,
    sessions: SessionmakerDep,
    settings: SettingsDep,
    response: Response,
    address: ClientAddress,
    principal: OptionalPrincipal,
    limits: RateLimitsDep,
    idempotency_key: IdempotencyKey = None,
) -> UserCreated:
    """Create the user, then hand the welcome e-mail to a worker: the response
    does not wait for the e-mail. With an ``Idempotency-Key``, a retried request
    gets the first response back instead of a 409 (keys are the caller's own).
    Who may register is ``APP_REGISTRATION`` (open, closed or admin)."""
    await limits.hit(
        limits.registration, "register", address=address, account=data.email
    )
    caller = principal.subject if principal else f"address {address}"
    request = idempotency_key and IdempotentRequest.of(
        "POST /users", caller, idempotency_key, data
    )
    if not request:
        return await _register(session, data, settings, None)
    try:
        stored = await idempotency.claim(sessions, request)
    except idempotency.IdempotencyKeyReusedError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    except idempotency.IdempotencyKeyInProgressError as exc:
        raise HTTPException(
            status.HTTP_409_CONFLICT, str(exc), headers={"Retry-After": "1"}
        ) from exc
    if stored is not None:
        response.headers[idempotency.REPLAYED_HEADER] = "true"
        return UserCreated.model_validate_json(stored)
    try:
        return await _register(session, data, settings, request)
    except BaseException:
        await idempotency.release(sessions, request)
        raise


async def _register(
    session: DBSession,
    data: UserCreate,
    settings: SettingsDep,
    request: IdempotentRequest | None,
) -> UserCreated:
    try:
        user = await service.create_user(session, data)
    except service.EmailAlreadyRegisteredError as exc:
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


async def _send_welcome_email(created: UserCreated, timeout_seconds: float) -> None:
    # The e-mail is the new user's job (they may follow it once signed in),
    # whoever registered them.
    owner = Principal.for_user(created.id, [])
    kicker = (
        send_welcome_email.kicker()
        .with_task_id(created.welcome_email_job_id)
        .with_labels(**on_behalf_of(owner))
    )
    await enqueue(kicker, timeout_seconds, created.id)


@router.get("/me", responses=NOT_FOUND)
async def read_me(principal: CurrentPrincipal, session: DBSession) -> UserRead:
    """The signed-in user's own record."""
    user = await service.get_user(session, principal.user_id or 0)
    if user is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, "not one of this service's users"
        )
    return UserRead.model_validate(user)


# `:int` keeps paths such as /users/export.csv out of this route.
@router.get("/{user_id:int}", responses=NOT_FOUND)
async def read_user(user: Annotated[User, Depends(readable_user)]) -> UserRead:
    """A user's own record; admins read anyone's."""
    return UserRead.model_validate(user)
