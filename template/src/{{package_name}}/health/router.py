import asyncio
from collections.abc import Awaitable
from typing import Any

from fastapi import APIRouter, status
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ..deps import BrokerDep, EngineDep, Public
from ..schema import DatabaseNotMigratedError, check_migrated
from ..worker.health import check_broker

# Probes come from orchestrators and load balancers, without credentials.
router = APIRouter(prefix="/health", tags=["health"], dependencies=[Public])

# A probe that hangs is a failed probe: orchestrators give up after a few seconds.
CHECK_TIMEOUT_SECONDS = 2.0


@router.get("/live")
async def live() -> dict[str, str]:
    """The process answers: nothing else is checked."""
    return {"status": "ok"}


@router.get(
    "/ready",
    responses={
        503: {"description": "A dependency is unavailable; the body says which"}
    },
)
async def ready(engine: EngineDep, broker: BrokerDep) -> JSONResponse:
    """The database and the broker both answer."""
    checks = {
        "database": await _probe(_check_database(engine)),
        "broker": await _probe(check_broker(broker)),
    }
    healthy = all(value == "ok" for value in checks.values())
    return JSONResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks},
        status_code=status.HTTP_200_OK
        if healthy
        else status.HTTP_503_SERVICE_UNAVAILABLE,
    )


async def _check_database(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
        await check_migrated(connection)


async def _probe(check: Awaitable[Any]) -> str:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            await check
    except TimeoutError:
        return f"unavailable: no answer within {CHECK_TIMEOUT_SECONDS} s"
    except DatabaseNotMigratedError as exc:
        return f"unavailable: {exc}"
    except Exception as exc:
        return f"unavailable: {type(exc).__name__}: {exc}"
    return "ok"
