"""The one dependency graph: the same aliases serve routes and tasks.

FastAPI injects the real ``Request``; in a worker, taskiq injects a request whose
``state`` is the app's lifespan state (see ``worker/fastapi_bridge.py``). Every
provider below reaches shared resources through that state, so a route and a
task get the same engine, HTTP client and mailer, and tests override both at once.
"""

from collections.abc import AsyncGenerator
from typing import Annotated, Any, TypedDict

import httpx
from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from taskiq import AsyncBroker, Context, TaskiqDepends

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


def get_http_client(request: SharedRequest) -> httpx.AsyncClient:
    client: httpx.AsyncClient = request.state.http_client
    return client


def get_mailer(request: SharedRequest) -> Mailer:
    mailer: Mailer = request.state.mailer
    return mailer


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
HTTPClient = Annotated[httpx.AsyncClient, Depends(get_http_client)]
MailerDep = Annotated[Mailer, Depends(get_mailer)]
BrokerDep = Annotated[AsyncBroker, Depends(get_broker)]
JobEventsDep = Annotated[JobEventLog, Depends(get_job_events)]
JobProgressDep = Annotated[JobProgress, Depends(get_job_progress)]
