"""Store the response of a request made with an ``Idempotency-Key`` header and
replay it when a client retries (after a timeout, a dropped connection…).

The record is written in the same transaction as the work it describes, so a
replay never announces work that was rolled back.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any, Self

from fastapi import Header
from pydantic import BaseModel, SecretStr
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from ..db import utcnow
from .models import IdempotencyRecord

# As long as clients retry; an older key is forgotten and may be used again.
KEY_LIFETIME = timedelta(hours=24)

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
    def of(cls, scope: str, key: str, body: BaseModel) -> Self:
        canonical = json.dumps(_reveal(body.model_dump()), sort_keys=True, default=str)
        return cls(scope, key, hashlib.sha256(canonical.encode()).hexdigest())


async def find_response(
    session: AsyncSession, request: IdempotentRequest
) -> str | None:
    """The stored response for this key, or ``None`` if the key is new."""
    record = await session.get(IdempotencyRecord, (request.scope, request.key))
    if record is None or record.created_at < utcnow() - KEY_LIFETIME:
        return None
    if record.fingerprint != request.fingerprint:
        raise IdempotencyKeyReusedError(request.key)
    return record.response


async def remember_response(
    session: AsyncSession, request: IdempotentRequest, response: str
) -> None:
    """Record the response; committed with the caller's transaction."""
    await session.merge(
        IdempotencyRecord(
            scope=request.scope,
            key=request.key,
            fingerprint=request.fingerprint,
            response=response,
            created_at=utcnow(),
        )
    )


async def forget(session: AsyncSession, request: IdempotentRequest) -> None:
    """Drop the record, so that a retry does the work afresh."""
    await session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.scope == request.scope,
            IdempotencyRecord.key == request.key,
        )
    )


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
