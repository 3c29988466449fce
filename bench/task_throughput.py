"""Task throughput, end to end, of a generated service against bare taskiq.

For each system, ``--tasks`` messages are sent first (the enqueue rate is
measured), then ``taskiq worker`` starts with one and with two processes, and
the clock runs from the first task's effect to the last one's. Every task has
the same effect, an ``INCR`` of a Redis counter, so the figures compare the
queues, not the work.

- service on Redis / on SQLite: the generated service's own broker (the
  Reliable stream broker or the embedded SQLite one), with its retry and
  job-tracking middlewares, its JSON result backend, job events and the shared
  dependency graph (the task takes the service's settings as a dependency);
- bare taskiq-redis stream / list: taskiq-redis's brokers with no middleware,
  no result backend and no dependency. Run:

    uv run python bench/task_throughput.py [--tasks 5000]
"""

import argparse
import os
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from pathlib import Path

import redis
from rendered_service import PACKAGE, render

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")

SERVICE_TASKS = f"""
import os

import redis.asyncio as aioredis

from {PACKAGE}.deps import INJECTED, SettingsDep
from {PACKAGE}.worker.broker import broker

counter = aioredis.Redis.from_url(os.environ["BENCH_REDIS_URL"])


@broker.task(task_name="bench.effect")
async def effect(key: str, settings: SettingsDep = INJECTED) -> None:
    await counter.incr(key)
"""

BARE_TASKS = """
import os

import redis.asyncio as aioredis
from taskiq_redis import ListQueueBroker, RedisStreamBroker

url = os.environ["BENCH_REDIS_URL"]
queue = os.environ["BENCH_QUEUE"]
if os.environ["BENCH_BROKER"] == "stream":
    broker = RedisStreamBroker(url, queue_name=queue)
else:
    broker = ListQueueBroker(url, queue_name=queue)
counter = aioredis.Redis.from_url(url)


@broker.task(task_name="bench.effect")
async def effect(key: str) -> None:
    await counter.incr(key)
"""


def send_all(directory: Path, env: dict[str, str], tasks: int, key: str) -> float:
    """Send the tasks from a separate process, as an API would; tasks per second."""
    script = textwrap.dedent(
        f"""
        import asyncio, sys, time
        from taskiq.kicker import AsyncKicker
        from bench_tasks import broker

        async def main() -> None:
            await broker.startup()
            started = time.perf_counter()
            kicker = AsyncKicker("bench.effect", broker, labels={{}})
            for _ in range({tasks}):
                await kicker.kiq({key!r})
            print({tasks} / (time.perf_counter() - started))
            await broker.shutdown()

        asyncio.run(main())
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(result.stdout.strip().splitlines()[-1])


def drain(
    directory: Path, env: dict[str, str], tasks: int, key: str, workers: int
) -> float:
    """Run workers until every task had its effect; tasks per second."""
    counter = redis.Redis.from_url(REDIS_URL)
    worker = subprocess.Popen(
        [
            *(sys.executable, "-m", "taskiq", "worker", "bench_tasks:broker"),
            *("--workers", str(workers), "--log-level", "WARNING"),
        ],
        cwd=directory,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 600
        while not int(counter.get(key) or 0):
            assert time.monotonic() < deadline, "no task ran"
            time.sleep(0.001)
        started, first = time.perf_counter(), int(counter.get(key) or 0)
        while (done := int(counter.get(key) or 0)) < tasks:
            assert time.monotonic() < deadline, f"{done}/{tasks} tasks ran"
            time.sleep(0.005)
        return (tasks - first) / (time.perf_counter() - started)
    finally:
        worker.terminate()
        worker.wait(timeout=60)
        counter.close()


def measure(name: str, directory: Path, env: dict[str, str], tasks: int) -> list[str]:
    rows = []
    for workers in (1, 2):
        key = f"bench:{uuid.uuid4().hex}"
        queue = f"bench-{uuid.uuid4().hex}"
        run_env = {**env, "APP_TASK_QUEUE": queue, "BENCH_QUEUE": queue}
        enqueue = send_all(directory, run_env, tasks, key)
        drained = drain(directory, run_env, tasks, key, workers)
        rows.append(f"| {name} | {workers} | {enqueue:,.0f} | {drained:,.0f} |")
        print(rows[-1], flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "service"
        render(project, [])
        service_dir, bare_dir = Path(tmp) / "service-bench", Path(tmp) / "bare-bench"
        service_dir.mkdir()
        bare_dir.mkdir()
        (service_dir / "bench_tasks.py").write_text(SERVICE_TASKS)
        (bare_dir / "bench_tasks.py").write_text(BARE_TASKS)
        base = {k: v for k, v in os.environ.items() if not k.startswith("APP_")}
        base["BENCH_REDIS_URL"] = REDIS_URL
        service_env = {
            **base,
            "PYTHONPATH": os.pathsep.join([str(service_dir), str(project / "src")]),
            "APP_DATABASE_URL": f"sqlite+aiosqlite:///{project}/var/app.db",
            "APP_LOG_LEVEL": "WARNING",
        }
        subprocess.run(
            [sys.executable, "-m", PACKAGE, "migrate"],
            env=service_env,
            cwd=project,
            check=True,
            capture_output=True,
        )
        bare_env = {**base, "PYTHONPATH": str(bare_dir)}
        print(f"{args.tasks:,} tasks; each increments a Redis counter\n")
        print("| system | worker processes | enqueue (tasks/s) | drain (tasks/s) |")
        print("| --- | ---: | ---: | ---: |")
        measure(
            "service on Redis",
            service_dir,
            {**service_env, "APP_BROKER_URL": REDIS_URL},
            args.tasks,
        )
        sqlite_url = f"sqlite:///{project}/var/broker.db"
        measure(
            "service on SQLite",
            service_dir,
            {**service_env, "APP_BROKER_URL": sqlite_url},
            args.tasks,
        )
        for kind in ("stream", "list"):
            env = {**bare_env, "BENCH_BROKER": kind}
            measure(f"bare taskiq-redis {kind}", bare_dir, env, args.tasks)


if __name__ == "__main__":
    main()
