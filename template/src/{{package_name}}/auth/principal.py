"""The one identity every route, task, job and room works with."""

import json
from dataclasses import dataclass
from typing import Any, TypeGuard

ADMIN = "admin"
# Scheduled tasks, and anything else the service starts on its own, run as it.
SERVICE_ROLE = "service"
SERVICE_SUBJECT = f"service:{__name__.split('.')[0]}"

# Longer than any real subject; a label or claim beyond it is refused.
MAX_SUBJECT_LENGTH = 255


@dataclass(frozen=True)
class Principal:
    """Whoever a request or task acts for: one of this service's users, a
    service account, a subject of an external identity provider, or the
    service itself."""

    subject: str
    roles: frozenset[str] = frozenset()
    scopes: frozenset[str] = frozenset()
    # The row in ``users`` for this service's own users; None otherwise.
    user_id: int | None = None

    @property
    def is_admin(self) -> bool:
        return ADMIN in self.roles

    def has_role(self, role: str) -> bool:
        return role in self.roles

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    @classmethod
    def for_user(cls, user_id: int, roles: list[str] | frozenset[str]) -> "Principal":
        return cls(subject=str(user_id), roles=frozenset(roles), user_id=user_id)

    def to_label(self) -> str:
        """Compact JSON, as a task label (labels travel as text)."""
        data: dict[str, Any] = {"sub": self.subject}
        if self.roles:
            data["roles"] = sorted(self.roles)
        if self.scopes:
            data["scopes"] = sorted(self.scopes)
        if self.user_id is not None:
            data["uid"] = self.user_id
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def from_label(cls, label: object) -> "Principal | None":
        """The principal a label names; None when it is absent or malformed
        (a label is whatever reached the queue: checked like a header)."""
        if not isinstance(label, str):
            return None
        try:
            data = json.loads(label)
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        subject, roles = data.get("sub"), data.get("roles", [])
        scopes, user_id = data.get("scopes", []), data.get("uid")
        if not valid_subject(subject) or not _strings(roles) or not _strings(scopes):
            return None
        if user_id is not None and (type(user_id) is not int or user_id < 1):
            return None
        return cls(subject, frozenset(roles), frozenset(scopes), user_id)


# The service's own code is trusted with everything an admin may do.
SERVICE = Principal(subject=SERVICE_SUBJECT, roles=frozenset({SERVICE_ROLE, ADMIN}))


def valid_subject(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and 0 < len(value) <= MAX_SUBJECT_LENGTH


def _strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)
