from email.message import EmailMessage


class RecordingMailer:
    """Keeps sent messages in memory for assertions."""

    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []

    async def send(self, message: EmailMessage) -> None:
        self.sent.append(message)
