"""Room tokens: JSON Web Tokens signed with HS256, so that any login service
(or JWT library) can issue them. Verified with the standard library alone.

Claims: ``sub`` (who), ``exp`` (when it expires), optional ``rooms`` (the rooms it
may join; absent: any).
"""

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any


class InvalidTokenError(Exception):
    pass


@dataclass(frozen=True)
class RoomGrant:
    subject: str
    rooms: frozenset[str] | None  # None: every room

    def allows(self, room: str) -> bool:
        return self.rooms is None or room in self.rooms


def issue_token(
    subject: str,
    secret: str,
    *,
    ttl_seconds: int = 3600,
    rooms: list[str] | None = None,
) -> str:
    claims: dict[str, Any] = {"sub": subject, "exp": int(time.time()) + ttl_seconds}
    if rooms is not None:
        claims["rooms"] = rooms
    header = _encode({"alg": "HS256", "typ": "JWT"})
    payload = _encode(claims)
    return f"{header}.{payload}.{_sign(f'{header}.{payload}', secret)}"


def verify_token(token: str, secret: str) -> RoomGrant:
    try:
        header, payload, signature = token.split(".")
        if json.loads(_decode(header)).get("alg") != "HS256":
            raise InvalidTokenError("only HS256 tokens are accepted")
        expected = _sign(f"{header}.{payload}", secret)
        if not hmac.compare_digest(signature, expected):
            raise InvalidTokenError("bad signature")
        claims = json.loads(_decode(payload))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidTokenError("malformed token") from exc
    if not isinstance(claims, dict) or not isinstance(claims.get("sub"), str):
        raise InvalidTokenError("no subject")
    expires = claims.get("exp")
    if not isinstance(expires, int | float) or expires < time.time():
        raise InvalidTokenError("expired")
    rooms = claims.get("rooms")
    if rooms is not None and not (
        isinstance(rooms, list) and all(isinstance(r, str) for r in rooms)
    ):
        raise InvalidTokenError("rooms must be a list of names")
    return RoomGrant(claims["sub"], frozenset(rooms) if rooms is not None else None)


def _sign(message: str, secret: str) -> str:
    digest = hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _encode(value: dict[str, Any]) -> str:
    raw = json.dumps(value, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
