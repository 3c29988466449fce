from ..deps import INJECTED, DBSession, MailerDep, OptionalPrincipal, SettingsDep
from ..worker.broker import broker
from . import service


@broker.task(task_name="users.send_welcome_email")
async def send_welcome_email(
    user_id: int,
    session: DBSession = INJECTED,
    mailer: MailerDep = INJECTED,
    settings: SettingsDep = INJECTED,
    principal: OptionalPrincipal = INJECTED,
) -> bool:
    """Runs in a worker with its own session from the shared dependency graph
    (never the request's session, which is closed by the time this runs), on
    behalf of the principal whose request sent it: the new user."""
    # None only for messages sent before tasks carried their principal.
    if principal is not None and not (
        principal.user_id == user_id or principal.is_admin
    ):
        raise PermissionError(
            f"{principal.subject} may not send user {user_id}'s welcome e-mail"
        )
    return await service.send_welcome_email(
        session, mailer, settings.email_from, user_id
    )
