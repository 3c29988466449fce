from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UTCDateTime, utcnow


class IdempotencyRecord(Base):
    """The response given to the first request that carried a key; none yet
    while that request is being processed (the key is claimed)."""

    __tablename__ = "idempotency_keys"

    # The endpoint and the caller, e.g. "POST /users <hash of the caller>": one
    # client's key never collides with another's.
    scope: Mapped[str] = mapped_column(String(100), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    # SHA-256 of the request body: a key reused for another body is an error.
    fingerprint: Mapped[str] = mapped_column(String(64))
    response: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
