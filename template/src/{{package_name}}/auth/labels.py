"""The principal travels with the tasks it sends, as the request id does."""

from taskiq import TaskiqMessage, TaskiqMiddleware

from .context import acting_principal, in_task
from .principal import Principal

PRINCIPAL_LABEL = "principal"


def on_behalf_of(principal: Principal) -> dict[str, str]:
    """Labels for ``kicker.with_labels(**…)``: a task sent for someone other
    than the caller (a new user's welcome e-mail is theirs, not anonymous)."""
    return {PRINCIPAL_LABEL: principal.to_label()}


class PrincipalLabelMiddleware(TaskiqMiddleware):
    """A task carries the principal whose request (or task, or schedule) sent
    it; the worker restores it for the task's dependency graph
    (``deps.CurrentPrincipal``) and its job record."""

    def pre_send(self, message: TaskiqMessage) -> TaskiqMessage:
        principal = acting_principal.get()
        if principal is not None and PRINCIPAL_LABEL not in message.labels:
            message.labels[PRINCIPAL_LABEL] = principal.to_label()
        return message

    def pre_execute(self, message: TaskiqMessage) -> TaskiqMessage:
        in_task.set(True)
        acting_principal.set(Principal.from_label(message.labels.get(PRINCIPAL_LABEL)))
        return message


def owner_of(labels: dict[str, object]) -> str | None:
    """The subject a job belongs to, from its message's or result's labels."""
    principal = Principal.from_label(labels.get(PRINCIPAL_LABEL))
    return principal.subject if principal is not None else None
