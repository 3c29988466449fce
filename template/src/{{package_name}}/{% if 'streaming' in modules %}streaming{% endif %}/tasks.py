from collections import Counter
from typing import Any

from sqlalchemy import func, select

from ..deps import INJECTED, CurrentPrincipal, DBSession, JobProgressDep
from ..users.models import User
from ..worker.broker import broker

BATCH_SIZE = 500


@broker.task(task_name="streaming.build_users_report")
async def build_users_report(
    batch_size: int = BATCH_SIZE,
    session: DBSession = INJECTED,
    progress: JobProgressDep = INJECTED,
    principal: CurrentPrincipal = INJECTED,
) -> dict[str, Any]:
    """A long task that reports its progress: users per e-mail domain, read in
    batches from a database cursor. Follow it at GET /jobs/{id}/events."""
    # The principal of the request that sent it (auth/labels.py): the report
    # reads every address, so it runs for admins only, however it was sent.
    if not principal.is_admin:
        raise PermissionError(f"{principal.subject} may not build the users report")
    total = await session.scalar(select(func.count()).select_from(User)) or 0
    domains: Counter[str] = Counter()
    done = 0
    result = await session.stream(
        select(User.email).order_by(User.id),
        execution_options={"yield_per": batch_size},
    )
    async for batch in result.partitions():
        domains.update(email.rpartition("@")[2] for (email,) in batch)
        done += len(batch)
        await progress.report(done=done, total=total)
    return {"users": done, "top_domains": dict(domains.most_common(5))}
