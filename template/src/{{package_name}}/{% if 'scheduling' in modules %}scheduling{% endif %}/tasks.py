from ..deps import INJECTED, DBSession
from ..idempotency.service import purge_expired_keys
from ..worker.broker import broker


@broker.task(
    task_name="scheduling.purge_expired",
    # Declared in code: taskiq's schedule label. Times are UTC unless a
    # schedule names its zone with ``cron_offset`` (e.g. "Europe/Paris").
    schedule=[
        {
            "cron": "17 3 * * *",
            "cron_offset": "UTC",
            "schedule_id": "scheduling.purge_expired.nightly",
        }
    ],
)
async def purge_expired(session: DBSession = INJECTED) -> dict[str, int]:
    """Nightly: forgets ``Idempotency-Key`` records past their lifetime. (Job
    results and events expire by themselves: Redis TTLs, SQLite rows purged as
    new ones are written.)"""
    return {"idempotency_keys": await purge_expired_keys(session)}
