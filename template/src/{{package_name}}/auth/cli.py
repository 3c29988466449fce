"""``<package> users create-admin`` and ``<package> service-accounts create``:
found by the service's command line (see ``cli.py``)."""

import argparse
import asyncio
import getpass
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession

from ..settings import Settings

# Processes this module adds to ``<package> dev``: none.
DEV_COMMANDS: list[list[str]] = []


def add_commands(
    commands: "argparse._SubParsersAction[argparse.ArgumentParser]",
) -> None:
    users = commands.add_parser(
        "users",
        help="manage users",
        description="Manage the service's users from the command line.",
    )
    user_commands = users.add_subparsers(dest="users_command", required=True)
    admin = user_commands.add_parser(
        "create-admin",
        help="give a user the admin role, creating the user if needed",
        description="Give the user with this e-mail address the admin role. A "
        "user who does not exist yet is created: the password is asked for, or "
        "read from standard input with --password-stdin.",
    )
    admin.add_argument("email")
    admin.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the new user's password from standard input",
    )
    admin.set_defaults(handler=create_admin)

    accounts = commands.add_parser(
        "service-accounts",
        help="manage credentials of machine callers",
        description="Manage service accounts: the credentials of machine callers, "
        "which get access tokens with the client credentials grant.",
    )
    account_commands = accounts.add_subparsers(dest="accounts_command", required=True)
    create = account_commands.add_parser(
        "create",
        help="create a service account and print its client secret (once)",
        description="Create a service account. It gets access tokens from "
        "POST /auth/token with grant_type=client_credentials, its name as "
        "client_id and the secret printed here as client_secret.",
    )
    create.add_argument("name", help="lowercase letters, digits and '-'")
    create.add_argument(
        "--scope",
        action="append",
        default=[],
        dest="scopes",
        help="a scope its tokens carry (repeat for more), e.g. schedules",
    )
    create.set_defaults(handler=create_service_account)


def create_admin(settings: Settings, args: argparse.Namespace) -> int:
    from pydantic import TypeAdapter, ValidationError

    from ..users.schemas import NormalizedEmail

    try:
        email = TypeAdapter(NormalizedEmail).validate_python(args.email)
    except ValidationError:
        sys.exit(f"{args.email!r} is not an e-mail address.")
    if asyncio.run(_user_exists(settings, email)):
        password = None
    else:
        password = _read_password(from_stdin=args.password_stdin)
    print(asyncio.run(_make_admin(settings, email, password)))
    return 0


async def _user_exists(settings: Settings, email: str) -> bool:
    from sqlalchemy import select

    from ..users.models import User

    async with _session(settings) as session:
        return (
            await session.scalar(select(User.id).where(User.email == email)) is not None
        )


async def _make_admin(settings: Settings, email: str, password: str | None) -> str:
    from .service import make_admin

    async with _session(settings) as session:
        user = await make_admin(session, email, password)
        await session.commit()
        return f"{user.email} (id {user.id}) is an admin."


def create_service_account(settings: Settings, args: argparse.Namespace) -> int:
    from .service import create_service_account as create

    async def run() -> str:
        async with _session(settings) as session:
            account, secret = await create(session, args.name, args.scopes)
            await session.commit()
        scopes = " ".join(account.scopes) or "none"
        return (
            f"Service account {account.name!r} created, scopes: {scopes}.\n"
            f"client_id: {account.name}\n"
            f"client_secret: {secret}\n"
            "The secret is shown once: only its hash is stored."
        )

    try:
        print(asyncio.run(run()))
    except ValueError as exc:
        sys.exit(f"Cannot create the service account: {exc}")
    return 0


def _read_password(*, from_stdin: bool) -> str:
    from ..users.schemas import PASSWORD_LENGTH

    if from_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Password for the new admin: ")
        if getpass.getpass("Again: ") != password:
            sys.exit("The passwords differ.")
    if len(password) not in PASSWORD_LENGTH:
        sys.exit(
            f"The password must be {PASSWORD_LENGTH.start} to "
            f"{PASSWORD_LENGTH.stop - 1} characters."
        )
    return password


@asynccontextmanager
async def _session(settings: Settings) -> AsyncIterator[AsyncSession]:
    from ..db import create_engine, create_sessionmaker

    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            yield session
    finally:
        await engine.dispose()
