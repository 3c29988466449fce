"""Outgoing e-mail: real SMTP when ``APP_SMTP_URL`` is set, the log otherwise."""

import logging
from email.message import EmailMessage
from typing import Protocol
from urllib.parse import unquote, urlsplit

import aiosmtplib

from .limits import CallLimiter
from .settings import Settings

logger = logging.getLogger(__name__)


class Mailer(Protocol):
    async def send(self, message: EmailMessage) -> None: ...


class SmtpMailer:
    """Sends through an SMTP server given as ``smtp[s]://user:password@host:port``,
    with at most ``limiter.max_concurrent`` messages in flight per process.

    ``smtps://`` is TLS from the first byte. ``smtp://`` upgrades with STARTTLS
    when the server offers it; with ``require_tls`` a server that does not
    makes the send fail before any password is sent.
    """

    def __init__(
        self, url: str, *, limiter: CallLimiter, require_tls: bool = False
    ) -> None:
        parts = urlsplit(url)
        self._implicit_tls = parts.scheme == "smtps"
        self._hostname = parts.hostname or "localhost"
        self._port = parts.port or (465 if self._implicit_tls else 25)
        self._username = unquote(parts.username) if parts.username else None
        self._password = unquote(parts.password) if parts.password else None
        self._limiter = limiter
        # None: aiosmtplib's opportunistic STARTTLS; True: STARTTLS or fail.
        self._start_tls = None if self._implicit_tls or not require_tls else True

    async def send(self, message: EmailMessage) -> None:
        await self._limiter.call(
            aiosmtplib.send,
            message,
            hostname=self._hostname,
            port=self._port,
            username=self._username,
            password=self._password,
            use_tls=self._implicit_tls,
            start_tls=self._start_tls,
        )


class LogMailer:
    """Development stand-in: the message is logged, nothing leaves the machine."""

    async def send(self, message: EmailMessage) -> None:
        logger.info(
            "E-mail (not sent, APP_SMTP_URL unset) to=%s subject=%r\n%s",
            message["To"],
            message["Subject"],
            message.get_content(),
        )


def create_mailer(settings: Settings) -> Mailer:
    if settings.smtp_url is None:
        return LogMailer()
    limiter = CallLimiter(
        "The SMTP server",
        max_concurrent=settings.smtp_max_concurrency,
        timeout_seconds=settings.http_timeout_seconds,
    )
    return SmtpMailer(
        settings.smtp_url.get_secret_value(),
        limiter=limiter,
        require_tls=settings.smtp_requires_tls,
    )
