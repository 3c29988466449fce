from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Response, status

from ..deps import AuthSettingsDep, ClientAddress, DBSession, Public, RateLimitsDep
from ..openapi import Responses
from . import service
from .schemas import RefreshRequest, TokenPair, TokenRequest

router = APIRouter(prefix="/auth", tags=["auth"], dependencies=[Public])

UNAUTHORIZED: Responses = {
    401: {"description": "Wrong credentials, or an unusable token"}
}
TOO_MANY: Responses = {429: {"description": "Too many attempts: see Retry-After"}}
NOT_ISSUED: Responses = {
    404: {"description": "Tokens come from the identity provider (APP_AUTH_JWKS_URL)"}
}


def _tokens_issued_here(settings: AuthSettingsDep) -> None:
    if not settings.issues_tokens:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            "this service does not issue tokens: get one from the identity provider",
        )


IssuedHere = Depends(_tokens_issued_here)


def _refused(reason: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, reason, headers={"WWW-Authenticate": "Bearer"}
    )


@router.post(
    "/token",
    dependencies=[IssuedHere],
    responses={**UNAUTHORIZED, **TOO_MANY, **NOT_ISSUED},
)
async def issue_token(
    form: Annotated[TokenRequest, Depends()],
    address: ClientAddress,
    session: DBSession,
    settings: AuthSettingsDep,
    limits: RateLimitsDep,
) -> TokenPair:
    """Log in: ``grant_type=password`` with the e-mail address as
    ``username``, or ``client_credentials`` for a service account."""
    if form.grant_type == "client_credentials":
        if not (form.client_id and form.client_secret):
            raise _refused("client_id and client_secret are required")
        await limits.hit(limits.login, "login", address=address, account=form.client_id)
        account = await service.authenticate_service_account(
            session, form.client_id, form.client_secret
        )
        if account is None:
            raise _refused("incorrect client_id or client_secret")
        return service.service_account_token(account, settings)
    if not (form.username and form.password):
        raise _refused("username and password are required")
    await limits.hit(
        limits.login, "login", address=address, account=form.username.lower()
    )
    user = await service.authenticate_user(session, form.username, form.password)
    if user is None:
        raise _refused("incorrect e-mail address or password")
    return await service.start_session(session, user, settings)


@router.post(
    "/refresh", dependencies=[IssuedHere], responses={**UNAUTHORIZED, **NOT_ISSUED}
)
async def refresh_token(
    body: RefreshRequest, session: DBSession, settings: AuthSettingsDep
) -> TokenPair:
    """A new access token and a new refresh token; the one sent stops working."""
    try:
        return await service.rotate_refresh_token(session, body.refresh_token, settings)
    except service.InvalidRefreshTokenError as exc:
        raise _refused(str(exc)) from exc


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[IssuedHere],
    responses=NOT_ISSUED,
)
async def logout(body: RefreshRequest, session: DBSession) -> Response:
    """Revoke the refresh token and every token rotated from the same login.
    Access tokens already issued stay valid until they expire (minutes)."""
    await service.revoke_refresh_token(session, body.refresh_token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
