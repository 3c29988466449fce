from ..deps import INJECTED, DBSession, MailerDep, SettingsDep
from ..worker.broker import broker
from . import service


@broker.task(task_name="users.send_welcome_email")
async def send_welcome_email(
    user_id: int,
    session: DBSession = INJECTED,
    mailer: MailerDep = INJECTED,
    settings: SettingsDep = INJECTED,
) -> bool:
    """Runs in a worker with its own session from the shared dependency graph
    (never the request's session, which is closed by the time this runs)."""
    return await service.send_welcome_email(
        session, mailer, settings.email_from, user_id
    )
