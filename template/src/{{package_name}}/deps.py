"""The one dependency graph: the same aliases serve routes and tasks.

FastAPI injects the real ``Request``; in a worker, taskiq injects a request whose
``state`` is the app's lifespan state (see ``worker/fastapi_bridge.py``). Every
provider below reaches shared resources through that state, so a route and a
task get the same engine, HTTP client and mailer, and tests override both at once.
"""

from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Annotated, Any, TypedDict

import httpx
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.requests import HTTPConnection
from taskiq import AsyncBroker, Context, TaskiqDepends

from .auth.context import acting_principal, in_task
from .auth.principal import ADMIN, Principal
from .auth.rate_limits import RateLimits
from .auth.rules import access_rule
from .auth.settings import AuthSettings
from .auth.verification import AuthUnavailableError, InvalidTokenError, TokenVerifier
from .jobs.events import JobEventLog
from .jobs.progress import JobProgress
from .mail import Mailer
from .settings import Settings
from .worker.broker import broker, job_events


class AppState(TypedDict):
    """What the lifespan yields; FastAPI and taskiq expose it as ``request.state``."""

    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    http_client: httpx.AsyncClient
    mailer: Mailer
    auth_settings: AuthSettings
    token_verifier: TokenVerifier
    rate_limits: RateLimits


# TaskiqDepends() tells taskiq to inject its request; FastAPI ignores the marker.
SharedRequest = Annotated[Request, TaskiqDepends()]


def get_settings(request: SharedRequest) -> Settings:
    settings: Settings = request.state.settings
    return settings


def get_engine(request: SharedRequest) -> AsyncEngine:
    engine: AsyncEngine = request.state.engine
    return engine


async def get_db_session(request: SharedRequest) -> AsyncGenerator[AsyncSession]:
    """One session per request or task: committed on success, rolled back on error."""
    sessionmaker: async_sessionmaker[AsyncSession] = request.state.sessionmaker
    async with sessionmaker() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        await session.commit()


async def get_sessionmaker(
    request: SharedRequest,
) -> async_sessionmaker[AsyncSession]:
    """For work that must commit on its own, apart from the request's session."""
    sessionmaker: async_sessionmaker[AsyncSession] = request.state.sessionmaker
    return sessionmaker


def get_http_client(request: SharedRequest) -> httpx.AsyncClient:
    client: httpx.AsyncClient = request.state.http_client
    return client


def get_mailer(request: SharedRequest) -> Mailer:
    mailer: Mailer = request.state.mailer
    return mailer


# Authentication runs on almost every request: its providers are `async def`
# although they await nothing, because FastAPI runs a plain `def` dependency in
# a worker thread, a hop that costs more than the provider itself.
async def get_auth_settings(request: SharedRequest) -> AuthSettings:
    auth_settings: AuthSettings = request.state.auth_settings
    return auth_settings


async def get_client_address(request: Request) -> str:
    """The client's IP address (behind a proxy, as uvicorn's
    ``--forwarded-allow-ips`` lets it read X-Forwarded-For)."""
    return request.client.host if request.client else "unknown"


async def get_token_verifier(request: SharedRequest) -> TokenVerifier:
    verifier: TokenVerifier = request.state.token_verifier
    return verifier


async def get_rate_limits(request: SharedRequest) -> RateLimits:
    limits: RateLimits = request.state.rate_limits
    return limits


class _BearerToken(OAuth2PasswordBearer):
    """``Authorization: Bearer …`` of a request (and the Authorize button of
    ``/docs``); nothing in a task, whose principal comes from its message."""

    async def __call__(
        self, request: Annotated[HTTPConnection, TaskiqDepends()]
    ) -> str | None:
        if in_task.get():
            return None
        return await super().__call__(request)


_bearer_token = _BearerToken(
    tokenUrl="/auth/token", scheme_name="OAuth2", auto_error=False
)


def _unauthorized(reason: str, *, invalid_token: bool) -> HTTPException:
    # RFC 6750: a bad token says so; a missing one only names the scheme.
    challenge = f'Bearer error="invalid_token", error_description="{reason}"'
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        reason,
        headers={"WWW-Authenticate": challenge if invalid_token else "Bearer"},
    )


async def get_optional_principal(
    token: Annotated[str | None, Depends(_bearer_token)],
    verifier: Annotated[TokenVerifier, Depends(get_token_verifier)],
) -> Principal | None:
    """The caller, or None without a token; 401 for a token that proves nothing.

    In a route, the verified principal also becomes the acting one, so that
    the tasks the request sends carry it. In a task, it is the principal of
    the request (or schedule) that sent the task.
    """
    if in_task.get():
        return acting_principal.get()
    if token is None:
        return None
    try:
        principal = await verifier.verify(token)
    except InvalidTokenError as exc:
        raise _unauthorized(str(exc), invalid_token=True) from exc
    except AuthUnavailableError as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            f"Service temporarily unavailable: {exc}; retry later.",
        ) from exc
    acting_principal.set(principal)
    return principal


OptionalPrincipal = Annotated[Principal | None, Depends(get_optional_principal)]


@access_rule("signed-in", "any principal with a valid access token")
async def get_current_principal(principal: OptionalPrincipal) -> Principal:
    if principal is None:
        if in_task.get():
            raise PermissionError("this task was sent without a principal")
        raise _unauthorized(
            "Not authenticated: send Authorization: Bearer <access token> "
            "(POST /auth/token)",
            invalid_token=False,
        )
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_current_principal)]


@access_rule("public", "anyone, signed in or not")
async def allow_anyone() -> None:
    """Declares a public route: anyone may call it, signed in or not."""


def require_role(role: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency that admits principals with ``role`` (403 for others)."""

    @access_rule("restricted", f"role {role}")
    async def check(principal: CurrentPrincipal) -> Principal:
        if not principal.has_role(role):
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"needs the {role} role")
        return principal

    return check


def require_scope(scope: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency that admits principals granted ``scope``, and admins."""

    @access_rule("restricted", f"scope {scope} or role {ADMIN}")
    async def check(principal: CurrentPrincipal) -> Principal:
        if not (principal.has_scope(scope) or principal.is_admin):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"needs the {scope} scope or the {ADMIN} role",
            )
        return principal

    return check


def get_broker() -> AsyncBroker:
    return broker


def get_job_events() -> JobEventLog:
    return job_events


def get_job_progress(
    context: Annotated[Context, TaskiqDepends()],
    events: Annotated[JobEventLog, Depends(get_job_events)],
) -> JobProgress:
    """Tasks only: the running task reports its progress through it."""
    return JobProgress(context, events)


# Default for injected task parameters, so that `task.kiq(user_id)` type-checks:
# taskiq types `.kiq()` with the task's full signature, where a parameter without
# a default is required. taskiq reads the Annotated dependency, not the default.
INJECTED: Any = None

SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[AsyncEngine, Depends(get_engine)]
# scope="function": the commit happens before FastAPI sends the response, so a
# failed commit is an error response, not a lost write behind a 2xx.
DBSession = Annotated[AsyncSession, Depends(get_db_session, scope="function")]
SessionmakerDep = Annotated[async_sessionmaker[AsyncSession], Depends(get_sessionmaker)]
HTTPClient = Annotated[httpx.AsyncClient, Depends(get_http_client)]
MailerDep = Annotated[Mailer, Depends(get_mailer)]
BrokerDep = Annotated[AsyncBroker, Depends(get_broker)]
JobEventsDep = Annotated[JobEventLog, Depends(get_job_events)]
JobProgressDep = Annotated[JobProgress, Depends(get_job_progress)]
ClientAddress = Annotated[str, Depends(get_client_address)]
AuthSettingsDep = Annotated[AuthSettings, Depends(get_auth_settings)]
TokenVerifierDep = Annotated[TokenVerifier, Depends(get_token_verifier)]
RateLimitsDep = Annotated[RateLimits, Depends(get_rate_limits)]
# Who may call a route: one of these in every route (auth/rules.py).
Public = Depends(allow_anyone)
AdminOnly = Depends(require_role(ADMIN))
AdminPrincipal = Annotated[Principal, AdminOnly]
