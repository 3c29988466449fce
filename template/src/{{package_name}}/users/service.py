import asyncio
from email.message import EmailMessage

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ..auth.passwords import password_hasher
from ..db import utcnow
from ..mail import Mailer
from .models import User
from .schemas import UserCreate


class EmailAlreadyRegisteredError(Exception):
    def __init__(self, email: str) -> None:
        super().__init__(f"{email} is already registered")


class UserNotFoundError(LookupError):
    # The result backend stores a task's error as its class and ``args`` and
    # rebuilds it with ``cls(*args)``: the args must be the constructor's.
    def __init__(self, user_id: int) -> None:
        super().__init__(user_id)
        self.user_id = user_id

    def __str__(self) -> str:
        return f"no user with id {self.user_id}"


async def create_user(session: AsyncSession, data: UserCreate) -> User:
    if await session.scalar(select(User.id).where(User.email == data.email)):
        raise EmailAlreadyRegisteredError(data.email)
    # Argon2 is deliberately slow CPU work (~50 ms): run it in a thread so the
    # event loop keeps serving other requests meanwhile.
    password_hash = await asyncio.to_thread(
        password_hasher.hash, data.password.get_secret_value()
    )
    user = User(email=data.email, password_hash=password_hash)
    session.add(user)
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent request registered it first
        await session.rollback()
        raise EmailAlreadyRegisteredError(data.email) from exc
    return user


async def get_user(session: AsyncSession, user_id: int) -> User | None:
    return await session.get(User, user_id)


async def delete_user(session: AsyncSession, user_id: int) -> None:
    await session.execute(delete(User).where(User.id == user_id))


async def send_welcome_email(
    session: AsyncSession, mailer: Mailer, sender: str, user_id: int
) -> bool:
    """Send the welcome e-mail once; ``False`` when it had already been sent."""
    user = await session.get(User, user_id)
    if user is None:
        raise UserNotFoundError(user_id)
    if user.welcome_email_sent_at is not None:
        return False
    # Rendering is sync code (template engines, PDF attachments are too): run it
    # in a thread, or every other task of this worker waits while it runs.
    message = await asyncio.to_thread(render_welcome_email, sender, user.email)
    await mailer.send(message)
    user.welcome_email_sent_at = utcnow()
    return True


def render_welcome_email(sender: str, recipient: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = "Welcome!"
    message.set_content(f"Hello {recipient}, your account is ready.")
    return message
