"""``<package> dead-letters``: see parked messages, send them again once fixed."""

from taskiq import AsyncBroker

from .backends.interface import DeadLetter, ServiceBroker

# The columns of each listed letter (tab-separated, for cut and awk).
HEADER = "id\tparked at\ttask\treason"


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
        if not requeue and not requeue_all:
            letters = await broker.dead_letters()
            if letters:
                print(HEADER)
            for letter in letters:
                print(describe(broker, letter))
            print(f"{count(len(letters), 'dead letter')}.")
            return 0
        missing = [i for i in requeue if not await broker.requeue_dead_letter(i)]
    finally:
        await broker.shutdown()
    print(f"Requeued {count(len(requeue) - len(missing), 'message')}.")
    if missing:
        print(f"No dead letter with id: {', '.join(missing)}")
        return 1
    return 0


def count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def describe(broker: AsyncBroker, letter: DeadLetter) -> str:
    try:
        task = broker.formatter.loads(letter.data).task_name
    except Exception:
        task = "?"
    parked = letter.parked_at.isoformat(timespec="seconds")
    return f"{letter.id}\t{parked}\t{task}\t{letter.reason}"
