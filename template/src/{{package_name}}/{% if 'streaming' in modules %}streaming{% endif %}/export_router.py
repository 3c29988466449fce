from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..deps import AdminOnly, get_db_session
from ..openapi import ADMINS_ONLY
from ..users.models import User
from .export import csv_lines, json_lines, stream_rows

# Every user's e-mail address: admins only.
router = APIRouter(
    prefix="/users",
    tags=["streaming"],
    dependencies=[AdminOnly],
    responses=ADMINS_ONLY,
)

# Request scope (FastAPI's default), unlike deps.DBSession: the session must stay
# open while the response body streams, after the endpoint function returned.
StreamSession = Annotated[AsyncSession, Depends(get_db_session)]

USER_COLUMNS = ("id", "email", "created_at")


async def _user_rows(session: AsyncSession) -> AsyncIterator[Sequence[Any]]:
    query = select(User.id, User.email, User.created_at).order_by(User.id)
    return await stream_rows(session, query)


def _attachment(extension: str) -> dict[str, str]:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return {"Content-Disposition": f'attachment; filename="users-{stamp}.{extension}"'}


@router.get("/export.csv", response_class=StreamingResponse)
async def export_users_csv(session: StreamSession) -> StreamingResponse:
    """Every user as CSV, streamed while the query runs."""
    return StreamingResponse(
        csv_lines(USER_COLUMNS, await _user_rows(session)),
        media_type="text/csv; charset=utf-8",
        headers=_attachment("csv"),
    )


@router.get("/export.jsonl", response_class=StreamingResponse)
async def export_users_jsonl(session: StreamSession) -> StreamingResponse:
    """Every user as JSON Lines (one object per line), streamed."""
    return StreamingResponse(
        json_lines(USER_COLUMNS, await _user_rows(session)),
        media_type="application/jsonl",
        headers=_attachment("jsonl"),
    )
