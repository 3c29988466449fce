"""Fetch-or-404 and access checks, so that route bodies hold only their own work."""

from typing import Annotated

from fastapi import HTTPException, Path, status

from ..auth.principal import ADMIN, Principal
from ..auth.rules import access_rule
from ..deps import AuthSettingsDep, CurrentPrincipal, DBSession, OptionalPrincipal
from . import service
from .models import User

# Ids are positive 32-bit integers (PostgreSQL's INTEGER): anything larger is
# refused before it reaches the database, where it would overflow.
UserId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@access_rule("owner", "the user themself, or role admin")
async def readable_user(
    user_id: UserId, principal: CurrentPrincipal, session: DBSession
) -> User:
    # Someone else's record answers exactly as a missing one: ids are
    # sequential, and a 403 would confirm that the account exists.
    user = await service.get_user(session, user_id)
    if user is None or not (principal.is_admin or principal.user_id == user.id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No user with id {user_id}")
    return user


@access_rule("setting", "APP_REGISTRATION: anyone (open), nobody (closed) or admins")
async def registration_allowed(
    settings: AuthSettingsDep, principal: OptionalPrincipal
) -> Principal | None:
    if settings.registration == "closed":
        raise HTTPException(status.HTTP_403_FORBIDDEN, "registration is closed")
    if settings.registration == "admin":
        if principal is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "registration is admin-only: sign in as an admin",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if ADMIN not in principal.roles:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "registration is admin-only")
    return principal
