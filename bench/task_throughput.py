"""Task throughput and round-trip latency: a generated service against bare
taskiq, Celery, ARQ and Dramatiq, all on the same Redis, in one invocation.

Throughput, end to end: ``--tasks`` messages are sent from a separate process
(the enqueue rate), then the queue's workers start with one and with two
processes, and the clock runs from the first task's effect to the last one's.
Every task has the same effect, an ``INCR`` of a Redis counter, so the figures
compare the queues, not the work.

Latency: with one worker process running, a caller in another process sends one
task, waits until its result is available to it, and sends the next
(``--samples`` times, after five discarded warm-up round trips), with the
queue's default way of waiting and, where that is a poll, a 5 ms poll too.

- service on Redis / on SQLite: the generated service's own broker (the
  Reliable stream broker or the embedded SQLite one), with its retry and
  job-tracking middlewares, its JSON result backend, job events and the shared
  dependency graph (the task takes the service's settings as a dependency);
- bare taskiq-redis stream / list: taskiq-redis's brokers with no middleware,
  no result backend (one is added for the latency) and no dependency;
- Celery, ARQ, Dramatiq: see ``queues.py`` for their settings. Run:

    uv run --group bench python bench/task_throughput.py [--tasks 5000]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import redis
from queues import (
    BARE_TASKIQ_TASKS,
    SERVICE_TASKS,
    TASKIQ_LATENCY,
    TASKIQ_SEND,
    Queue,
    peer_queues,
    taskiq_workers,
)
from rendered_service import PACKAGE, machine_report, render

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
WARM_UP = 5


def run_script(directory: Path, env: dict[str, str], script: str) -> str:
    """A producer or caller in its own process; its last line of output."""
    result = subprocess.run(
        [sys.executable, script],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode:
        raise RuntimeError(f"{script} failed in {directory}:\n{result.stderr}")
    return result.stdout.strip().splitlines()[-1]


def cpu_seconds(roots: list[int]) -> float:
    """CPU time used so far by these processes and all their descendants."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # Fields after the command name, which may hold spaces: ")".
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:  # The process ended meanwhile.
            continue
        pid = int(stat.parent.name)
        parents[pid] = int(fields[1])
        times[pid] = (int(fields[11]) + int(fields[12])) / tick
    total, wanted = 0.0, set(roots)
    for pid in sorted(times):
        ancestor = pid
        while ancestor not in wanted and ancestor > 1:
            ancestor = parents.get(ancestor, 0)
        if ancestor in wanted:
            total += times[pid]
    return total


@contextmanager
def workers(
    queue: Queue, directory: Path, env: dict[str, str], processes: int
) -> Iterator[list[int]]:
    started = [
        subprocess.Popen(
            command,
            cwd=directory,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for command in queue.workers(processes)
    ]
    try:
        yield [process.pid for process in started]
    finally:
        for process in started:
            process.terminate()
        for process in started:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def drain(
    queue: Queue, directory: Path, env: dict[str, str], tasks: int, processes: int
) -> tuple[float, float]:
    """Run workers until every task had its effect: tasks per second, and the
    workers' CPU time per task in µs (which the machine's load bends less)."""
    counter = redis.Redis.from_url(REDIS_URL)
    key = env["BENCH_KEY"]
    try:
        with workers(queue, directory, env, processes) as pids:
            deadline = time.monotonic() + 600
            while not int(counter.get(key) or 0):
                assert time.monotonic() < deadline, "no task ran"
                time.sleep(0.001)
            started, first = time.perf_counter(), int(counter.get(key) or 0)
            cpu_at_start = cpu_seconds(pids)
            while (done := int(counter.get(key) or 0)) < tasks:
                assert time.monotonic() < deadline, f"{done}/{tasks} tasks ran"
                time.sleep(0.005)
            elapsed = time.perf_counter() - started
            cpu = cpu_seconds(pids) - cpu_at_start
            return (tasks - first) / elapsed, cpu / (tasks - first) * 1e6
    finally:
        counter.close()


def run_env(queue: Queue, directory: Path, base: dict[str, str]) -> dict[str, str]:
    """A fresh queue name and counter for one run of one queue."""
    name = f"bench-{uuid.uuid4().hex}"
    path = [str(directory), *filter(None, [queue.env.get("PYTHONPATH")])]
    return {
        **base,
        **queue.env,
        "PYTHONPATH": os.pathsep.join(path),
        "APP_TASK_QUEUE": name,
        "BENCH_QUEUE": name,
        "BENCH_KEY": f"{name}:count",
    }


def clean(env: dict[str, str]) -> None:
    """Delete what a run left in Redis (results left behind expire)."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        for key in client.scan_iter(match=f"*{env['BENCH_QUEUE']}*", count=1000):
            client.delete(key)
    finally:
        client.close()


def throughput(queue: Queue, directory: Path, base: dict[str, str], tasks: int) -> None:
    for processes in (1, 2):
        env = {**run_env(queue, directory, base), "BENCH_TASKS": str(tasks)}
        try:
            enqueue = float(run_script(directory, env, "bench_send.py"))
            drained, cpu = drain(queue, directory, env, tasks, processes)
        finally:
            clean(env)
        print(
            f"| {queue.name} | {queue.delivery} | {processes} "
            f"| {enqueue:,.0f} | {drained:,.0f} | {cpu:,.0f} |",
            flush=True,
        )


def latency(queue: Queue, directory: Path, base: dict[str, str], samples: int) -> None:
    env = {
        **run_env(queue, directory, base),
        "BENCH_RESULTS": "1",
        "BENCH_TASKS": str(samples + WARM_UP),
    }
    try:
        with workers(queue, directory, env, 1):
            for poll in queue.polls:
                output = run_script(
                    directory, {**env, "BENCH_POLL": poll}, "bench_latency.py"
                )
                measured = sorted(json.loads(output)[WARM_UP:])
                p50 = statistics.median(measured)
                p99 = measured[min(len(measured) - 1, round(0.99 * len(measured)))]
                wait = f"poll every {float(poll) * 1000:g} ms" if poll else "default"
                print(f"| {queue.name} | {wait} | {p50:.1f} | {p99:.1f} |", flush=True)
    finally:
        clean(env)


def taskiq_queues(project: Path) -> list[Queue]:
    service_env = {
        "PYTHONPATH": str(project / "src"),
        "APP_DATABASE_URL": f"sqlite+aiosqlite:///{project}/var/app.db",
        "APP_LOG_LEVEL": "WARNING",
        "APP_RESULT_TTL_SECONDS": "600",
    }
    service = Queue(
        "service on Redis",
        "at least once",
        SERVICE_TASKS,
        TASKIQ_SEND,
        TASKIQ_LATENCY,
        taskiq_workers,
        env={**service_env, "APP_BROKER_URL": REDIS_URL},
        polls=("", "0.005"),
    )
    sqlite_url = f"sqlite:///{project}/var/broker.db"
    bare = Queue(
        "bare taskiq-redis stream",
        "at least once",
        BARE_TASKIQ_TASKS,
        TASKIQ_SEND,
        TASKIQ_LATENCY,
        taskiq_workers,
        env={"BENCH_BROKER": "stream"},
        polls=("", "0.005"),
    )
    return [
        service,
        replace(
            service,
            name="service on Redis, without hiredis",
            env={**service.env, "BENCH_HIREDIS": "0"},
        ),
        replace(
            service,
            name="service on SQLite",
            env={**service_env, "APP_BROKER_URL": sqlite_url},
        ),
        bare,
        replace(
            bare,
            name="bare taskiq-redis list",
            delivery="at most once",
            env={"BENCH_BROKER": "list"},
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=5000)
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--only", nargs="*", help="queue names to run (substrings)")
    parser.add_argument("--no-latency", action="store_true")
    args = parser.parse_args()
    print(machine_report(["taskiq", "taskiq-redis", "redis", "hiredis", "celery"]))
    print(machine_report(["kombu", "arq", "dramatiq"], machine=False), "\n")
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "service"
        render(project, [])
        base = {k: v for k, v in os.environ.items() if not k.startswith("APP_")}
        base["BENCH_REDIS_URL"] = REDIS_URL
        subprocess.run(
            [sys.executable, "-m", PACKAGE, "migrate"],
            env={**base, **taskiq_queues(project)[0].env},
            cwd=project,
            check=True,
            capture_output=True,
        )
        queues = [
            queue
            for queue in [*taskiq_queues(project), *peer_queues()]
            if not args.only or any(part in queue.name for part in args.only)
        ]
        directories = {}
        for index, queue in enumerate(queues):
            directories[queue.name] = Path(tmp) / f"queue-{index}"
            queue.write(directories[queue.name])

        print(f"Throughput: {args.tasks:,} tasks; each increments a Redis counter\n")
        print(
            "| queue | delivery | worker processes | enqueue/s | drain/s "
            "| worker CPU µs/task |"
        )
        print("| --- | --- | ---: | ---: | ---: | ---: |")
        for queue in queues:
            throughput(queue, directories[queue.name], base, args.tasks)
        if args.no_latency:
            queues = []
        else:
            print(f"\nRound trip, send to result in the caller: {args.samples} tasks")
            print("\n| queue | caller waits by | p50 (ms) | p99 (ms) |")
            print("| --- | --- | ---: | ---: |")
        for queue in queues:
            if "without hiredis" not in queue.name:
                latency(queue, directories[queue.name], base, args.samples)
    print("\n" + machine_report([], machine=False))


if __name__ == "__main__":
    main()
