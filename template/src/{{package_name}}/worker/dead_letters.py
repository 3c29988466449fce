"""``<package> dead-letters``: see parked messages, send them again once fixed."""

from taskiq import AsyncBroker

from .backends.interface import DeadLetter, ServiceBroker


async def manage_dead_letters(
    broker: AsyncBroker, *, requeue: list[str], requeue_all: bool
) -> int:
    """List dead letters, or requeue some; the process exit code."""
    if not isinstance(broker, ServiceBroker):
        print(f"{type(broker).__name__} keeps no dead letters.")
        return 1
    try:
        if requeue_all:
            requeue = [letter.id for letter in await broker.dead_letters(limit=10_000)]
        if not requeue:
            letters = await broker.dead_letters()
            for letter in letters:
                print(describe(broker, letter))
            print(f"{len(letters)} dead letters.")
            return 0
        missing = [i for i in requeue if not await broker.requeue_dead_letter(i)]
    finally:
        await broker.shutdown()
    print(f"Requeued {len(requeue) - len(missing)} messages.")
    if missing:
        print(f"No dead letter with id: {', '.join(missing)}")
        return 1
    return 0


def describe(broker: AsyncBroker, letter: DeadLetter) -> str:
    try:
        task = broker.formatter.loads(letter.data).task_name
    except Exception:
        task = "?"
    parked = letter.parked_at.isoformat(timespec="seconds")
    return f"{letter.id}\t{parked}\t{task}\t{letter.reason}"
