"""Logins, refresh-token rotation, service accounts and the first admin."""

import asyncio
import re
import secrets
import uuid
from datetime import timedelta
from functools import cache

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..db import utcnow
from ..users.models import User
from .models import RefreshToken, ServiceAccount
from .passwords import password_hasher
from .principal import ADMIN, Principal
from .schemas import TokenPair
from .settings import AuthSettings
from .tokens import hash_refresh_token, issue_access_token, new_refresh_token

SERVICE_ACCOUNT_NAME = re.compile(r"[a-z][a-z0-9-]{0,63}")
SERVICE_ACCOUNT_PREFIX = "service-account:"


@cache
def _unknown_account_hash() -> str:
    """Verified when the account is unknown, so that a wrong address takes as
    long as a wrong password: response times do not tell which accounts exist.
    Made on first use, not at import: every process imports this module."""
    return password_hasher.hash(secrets.token_urlsafe(16))


class InvalidRefreshTokenError(Exception):
    pass


async def authenticate_user(
    session: AsyncSession, email: str, password: str
) -> User | None:
    user = await session.scalar(select(User).where(User.email == email.lower()))
    stored = user.password_hash if user is not None else _unknown_account_hash()
    # Argon2 is deliberately slow CPU work: in a thread, as when hashing.
    valid = await asyncio.to_thread(_verify, password, stored)
    return user if valid and user is not None else None


async def authenticate_service_account(
    session: AsyncSession, name: str, secret: str
) -> ServiceAccount | None:
    account = await session.scalar(
        select(ServiceAccount).where(ServiceAccount.name == name)
    )
    stored = account.secret_hash if account is not None else _unknown_account_hash()
    valid = await asyncio.to_thread(_verify, secret, stored)
    return account if valid and account is not None else None


def _verify(secret: str, stored_hash: str) -> bool:
    # A lone surrogate cannot be encoded: it matches no stored secret.
    try:
        return password_hasher.verify(secret, stored_hash)
    except UnicodeEncodeError:
        return False


def principal_of_user(user: User) -> Principal:
    return Principal.for_user(user.id, user.roles)


def principal_of_service_account(account: ServiceAccount) -> Principal:
    return Principal(
        subject=f"{SERVICE_ACCOUNT_PREFIX}{account.name}",
        scopes=frozenset(account.scopes),
    )


async def start_session(
    session: AsyncSession, user: User, settings: AuthSettings
) -> TokenPair:
    """A login: an access token and the first refresh token of a new family."""
    return await _issue(session, user, uuid.uuid4().hex, settings)


async def rotate_refresh_token(
    session: AsyncSession, token: str, settings: AuthSettings
) -> TokenPair:
    """Exchange a refresh token for a new pair; the old token stops working.

    Presenting a token that was already rotated means it leaked (or the
    client lost a race with a thief): every token of its family is revoked,
    committed at once, and the caller must log in again.
    """
    now = utcnow()
    stored = await session.scalar(
        select(RefreshToken).where(RefreshToken.token_hash == hash_refresh_token(token))
    )
    if stored is None or stored.expires_at <= now:
        raise InvalidRefreshTokenError("the refresh token is unknown or expired")
    # Claimed with a conditional update: of two concurrent uses, one wins.
    claimed = await session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == stored.id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        await _revoke_family(session, stored.family_id)
        await session.commit()
        raise InvalidRefreshTokenError(
            "the refresh token was already used: every token of this login is "
            "revoked, log in again"
        )
    user = await session.get(User, stored.user_id)
    if user is None:
        raise InvalidRefreshTokenError("the refresh token's user no longer exists")
    return await _issue(session, user, stored.family_id, settings)


async def revoke_refresh_token(session: AsyncSession, token: str) -> None:
    """Log out: the token's whole family stops working (unknown tokens too:
    the answer is the same, so it tells nothing)."""
    stored = await session.scalar(
        select(RefreshToken).where(RefreshToken.token_hash == hash_refresh_token(token))
    )
    if stored is not None:
        await _revoke_family(session, stored.family_id)


async def _revoke_family(session: AsyncSession, family_id: str) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


async def _issue(
    session: AsyncSession, user: User, family_id: str, settings: AuthSettings
) -> TokenPair:
    refresh = new_refresh_token()
    session.add(
        RefreshToken(
            token_hash=hash_refresh_token(refresh),
            family_id=family_id,
            user_id=user.id,
            expires_at=utcnow()
            + timedelta(seconds=settings.auth_refresh_token_ttl_seconds),
        )
    )
    await session.flush()
    return TokenPair(
        access_token=issue_access_token(principal_of_user(user), settings),
        expires_in=settings.auth_access_token_ttl_seconds,
        refresh_token=refresh,
    )


def service_account_token(account: ServiceAccount, settings: AuthSettings) -> TokenPair:
    return TokenPair(
        access_token=issue_access_token(
            principal_of_service_account(account), settings
        ),
        expires_in=settings.auth_access_token_ttl_seconds,
    )


async def make_admin(session: AsyncSession, email: str, password: str | None) -> User:
    """Give ``admin`` to the user with this address, creating it (with this
    password) when there is none."""
    user = await session.scalar(select(User).where(User.email == email.lower()))
    if user is None:
        if password is None:
            raise ValueError(f"no user {email}: give a password to create one")
        password_hash = await asyncio.to_thread(password_hasher.hash, password)
        user = User(email=email.lower(), password_hash=password_hash, roles=[])
        session.add(user)
    if ADMIN not in user.roles:
        user.roles = [*user.roles, ADMIN]
    await session.flush()
    return user


async def create_service_account(
    session: AsyncSession, name: str, scopes: list[str]
) -> tuple[ServiceAccount, str]:
    """A new account and its secret (shown once: only a hash is kept)."""
    if not SERVICE_ACCOUNT_NAME.fullmatch(name):
        raise ValueError(
            "a service account name is 1-64 lowercase letters, digits or '-', "
            "starting with a letter"
        )
    if await session.scalar(
        select(ServiceAccount.id).where(ServiceAccount.name == name)
    ):
        raise ValueError(f"a service account named {name!r} exists already")
    secret = secrets.token_urlsafe(32)
    secret_hash = await asyncio.to_thread(password_hasher.hash, secret)
    account = ServiceAccount(name=name, secret_hash=secret_hash, scopes=sorted(scopes))
    session.add(account)
    await session.flush()
    return account, secret
