"""Store the response of a request made with an ``Idempotency-Key`` header and
replay it when a client retries (after a timeout, a dropped connection…).

The first request with a key claims it in a transaction of its own, committed
at once, so that concurrent requests with the key see the claim: a retry with
the same body waits for the first to finish and replays its response, one
with another body is refused. The response is written in the same transaction
as the work it describes, so a replay never announces work that was rolled
back; a request that fails releases its claim, and one that died holding it
loses it after ``CLAIM_SECONDS``.
"""

import asyncio
import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any, Self

from fastapi import Header
from pydantic import BaseModel, SecretStr
from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..db import utcnow
from .models import IdempotencyRecord

# As long as clients retry; an older key is forgotten and may be used again.
KEY_LIFETIME = timedelta(hours=24)
# A claim older than this belongs to a request that died: another takes it.
CLAIM_SECONDS = 60.0
# How long a concurrent retry waits for the first request's response.
WAIT_FOR_FIRST_SECONDS = 10.0

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        description="Any unique string (e.g. a UUID): a retry with the same key "
        "and body gets the first response instead of doing the work twice.",
    ),
]

REPLAYED_HEADER = "Idempotent-Replayed"


class IdempotencyKeyInProgressError(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(
            f"a request with Idempotency-Key {key!r} is still being processed: "
            "retry in a moment"
        )


class IdempotencyKeyReusedError(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(
            f"Idempotency-Key {key!r} was already used with a different request body"
        )


@dataclass(frozen=True)
class IdempotentRequest:
    scope: str
    key: str
    fingerprint: str

    @classmethod
    def of(cls, endpoint: str, caller: str, key: str, body: BaseModel) -> Self:
        """``caller``: who sends it (a principal's subject, or the client
        address of an anonymous request): keys are scoped to it."""
        canonical = json.dumps(_reveal(body.model_dump()), sort_keys=True, default=str)
        caller_hash = hashlib.sha256(caller.encode("utf-8", "replace")).hexdigest()
        return cls(
            f"{endpoint} {caller_hash[:32]}",
            key,
            hashlib.sha256(canonical.encode("utf-8", "replace")).hexdigest(),
        )


Sessions = async_sessionmaker[AsyncSession]


async def claim(sessions: Sessions, request: IdempotentRequest) -> str | None:
    """``None`` when this request holds the key now (it does the work and then
    ``remember_response``); the first request's response when it is done.

    Raises IdempotencyKeyReusedError for another body, and
    IdempotencyKeyInProgressError when the first request is still running
    after ``WAIT_FOR_FIRST_SECONDS``.
    """
    deadline = asyncio.get_running_loop().time() + WAIT_FOR_FIRST_SECONDS
    while True:
        async with sessions() as session:
            if await _try_claim(session, request):
                return None
            record = await session.get(IdempotencyRecord, (request.scope, request.key))
        if record is not None and record.fingerprint != request.fingerprint:
            raise IdempotencyKeyReusedError(request.key)
        if record is not None and record.response is not None:
            return record.response
        if asyncio.get_running_loop().time() > deadline:
            raise IdempotencyKeyInProgressError(request.key)
        await asyncio.sleep(0.05)


async def _try_claim(session: AsyncSession, request: IdempotentRequest) -> bool:
    now = utcnow()
    session.add(
        IdempotencyRecord(
            scope=request.scope,
            key=request.key,
            fingerprint=request.fingerprint,
            response=None,
            created_at=now,
        )
    )
    try:
        await session.commit()
        return True
    except IntegrityError:
        await session.rollback()
    # Taken: over if it expired, or if its request died holding the claim.
    taken_over = await session.execute(
        update(IdempotencyRecord)
        .where(
            IdempotencyRecord.scope == request.scope,
            IdempotencyRecord.key == request.key,
            (IdempotencyRecord.created_at < now - KEY_LIFETIME)
            | (
                IdempotencyRecord.response.is_(None)
                & (
                    IdempotencyRecord.created_at
                    < now - timedelta(seconds=CLAIM_SECONDS)
                )
            ),
        )
        .values(fingerprint=request.fingerprint, response=None, created_at=now)
    )
    await session.commit()
    return bool(getattr(taken_over, "rowcount", 0))


async def remember_response(
    session: AsyncSession, request: IdempotentRequest, response: str
) -> None:
    """Record the response; committed with the caller's transaction."""
    await session.execute(
        update(IdempotencyRecord)
        .where(
            IdempotencyRecord.scope == request.scope,
            IdempotencyRecord.key == request.key,
        )
        .values(response=response)
    )


async def forget(session: AsyncSession, request: IdempotentRequest) -> None:
    """Drop the record, answered or not, in the caller's transaction."""
    await session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.scope == request.scope,
            IdempotencyRecord.key == request.key,
        )
    )


async def release(sessions: Sessions, request: IdempotentRequest) -> None:
    """Give the key up (the work failed), so that a retry does it afresh."""
    async with sessions() as session:
        await session.execute(
            delete(IdempotencyRecord).where(
                IdempotencyRecord.scope == request.scope,
                IdempotencyRecord.key == request.key,
                IdempotencyRecord.response.is_(None),
            )
        )
        await session.commit()


async def purge_expired_keys(session: AsyncSession) -> int:
    result = await session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.created_at < utcnow() - KEY_LIFETIME
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _reveal(value: Any) -> Any:
    """Secrets count in the fingerprint (only its hash is stored)."""
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, dict):
        return {k: _reveal(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_reveal(v) for v in value]
    return value
