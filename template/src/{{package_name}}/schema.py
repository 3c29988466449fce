"""Is the database at this code's schema? An unmigrated database makes readiness
fail, is logged at start, and turns a request's "no such table" into a 503 that
says what to run, instead of a 500 with a traceback."""

import logging
from functools import cache

from alembic.script import ScriptDirectory
from fastapi import Request, status
from fastapi.responses import JSONResponse
from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from .migrate import PACKAGE, alembic_config

logger = logging.getLogger(__name__)
# Alembic's default, which migrations/env.py keeps.
VERSION_TABLE = "alembic_version"


class DatabaseNotMigratedError(Exception):
    def __init__(self) -> None:
        super().__init__(f"database not migrated (run `{PACKAGE} migrate`)")


@cache
def _revisions() -> tuple[frozenset[str], frozenset[str]]:
    """This code's head revisions, and every revision it knows."""
    script = ScriptDirectory.from_config(alembic_config(""))
    known = frozenset(r.revision for r in script.walk_revisions())
    return frozenset(script.get_heads()), known


def _current_revisions(connection: Connection) -> frozenset[str]:
    # Read directly: alembic's MigrationContext logs two lines each time.
    if not inspect(connection).has_table(VERSION_TABLE):
        return frozenset()
    rows = connection.execute(text("SELECT version_num FROM alembic_version"))
    return frozenset(row[0] for row in rows)


async def check_migrated(connection: AsyncConnection) -> None:
    """Raise DatabaseNotMigratedError when the database is behind this code.

    A revision this code does not know is a newer release's: during a rollout
    old processes keep serving on the migrated database (README, "Deploy")."""
    heads, known = _revisions()
    current = await connection.run_sync(_current_revisions)
    if not current or (current <= known and not heads <= current):
        raise DatabaseNotMigratedError


async def log_unmigrated(engine: AsyncEngine) -> None:
    """Say at start what readiness would say later."""
    try:
        async with engine.connect() as connection:
            await check_migrated(connection)
    except DatabaseNotMigratedError as exc:
        logger.warning("%s", exc)
    except Exception as exc:  # Readiness reports the database's state.
        logger.warning("The database does not answer: %s", exc)


async def database_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """A database error on an unmigrated database is a 503 with the reason; any
    other goes on to the usual 500."""
    engine: AsyncEngine = request.state.engine
    try:
        async with engine.connect() as connection:
            await check_migrated(connection)
    except DatabaseNotMigratedError as not_migrated:
        return JSONResponse(
            {"detail": f"Service unavailable: {not_migrated}."},
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
    except Exception:  # noqa: S110 - the request's own error is the one to report
        pass
    raise exc
