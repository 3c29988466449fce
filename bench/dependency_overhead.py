"""Per-task cost of the shared dependency graph, three ways, in one run.

- plain: a task with no dependencies (the floor);
- context: the generated services' way: the fake Request sits in taskiq's
  dependency *context* (see template/.../worker/fastapi_bridge.py);
- override: taskiq-fastapi's default, the Request in ``dependency_overrides``,
  which makes taskiq rebuild the task's dependency graph on every run.

Each task resolves the same chain as a generated service's task (request ->
settings, request -> session factory -> session with cleanup). Run:

    uv run python bench/dependency_overhead.py [--tasks 20000]
"""

import argparse
import asyncio
import statistics
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from taskiq import InMemoryBroker, TaskiqDepends
from taskiq.receiver import Receiver

SharedRequest = Annotated[Request, TaskiqDepends()]


class Session:
    async def close(self) -> None:
        return None


def get_settings(request: SharedRequest) -> dict[str, Any]:
    settings: dict[str, Any] = request.state.settings
    return settings


async def get_session(request: SharedRequest) -> AsyncIterator[Session]:
    session: Session = request.state.sessionmaker()
    try:
        yield session
    finally:
        await session.close()


INJECTED: Any = None
SettingsDep = Annotated[dict[str, Any], Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]


def make_broker(mode: str) -> tuple[InMemoryBroker, Receiver, str]:
    broker = InMemoryBroker()
    app = FastAPI()
    state = {"settings": {"x": 1}, "sessionmaker": Session}

    if mode == "plain":

        @broker.task(task_name="t")
        async def plain_task(n: int) -> int:
            return n

    else:

        @broker.task(task_name="t")
        async def injected_task(
            n: int, settings: SettingsDep = INJECTED, session: SessionDep = INJECTED
        ) -> int:
            if settings["x"] != 1 or not isinstance(session, Session):
                raise RuntimeError("dependencies were not injected")
            return n

        def request() -> Request:
            return Request(scope={"app": app, "type": "http", "state": dict(state)})

        if mode == "context":
            broker.add_dependency_context({Request: request()})
        else:
            broker.dependency_overrides[Request] = request

    receiver = Receiver(broker, run_startup=False, max_async_tasks=1000)
    return broker, receiver, "t"


async def measure(mode: str, tasks: int) -> float:
    broker, receiver, name = make_broker(mode)
    messages = []
    for i in range(tasks):
        kicker = broker.find_task(name)
        assert kicker is not None
        message = kicker.kicker()._prepare_message(i)
        messages.append(broker.formatter.dumps(message).message)
    for payload in messages[:200]:  # warm-up
        await receiver.callback(payload)
    started = time.perf_counter()
    for payload in messages:
        await receiver.callback(payload)
    elapsed = time.perf_counter() - started
    failed = [
        task_id
        for task_id, result in broker.result_backend.results.items()
        if result.is_err
    ]
    if failed:
        raise SystemExit(f"{mode}: {len(failed)} tasks failed, the figures are void")
    return elapsed / tasks * 1e6


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    results: dict[str, list[float]] = {"plain": [], "context": [], "override": []}
    for _ in range(args.rounds):  # interleaved, so that drift hits all modes alike
        for mode in results:
            results[mode].append(await measure(mode, args.tasks))
    plain = statistics.median(results["plain"])
    print(f"{'mode':<10}{'us/task':>10}{'over plain':>12}")
    for mode, values in results.items():
        median = statistics.median(values)
        print(f"{mode:<10}{median:>10.1f}{median - plain:>12.1f}")


if __name__ == "__main__":
    asyncio.run(main())
