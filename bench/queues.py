"""The task queues the benchmarks compare, each as a small project on disk.

Every queue gets a directory holding ``bench_tasks.py`` (one task, ``effect``,
that increments a Redis counter), a producer script that sends tasks from its
own process, a latency script that sends one task at a time and waits for its
result, and the command lines of its worker processes. All of them run on the
same Redis (``BENCH_REDIS_URL``, its own database index) under a prefix unique
to each run (``BENCH_QUEUE``).

Settings are each queue's best for a no-op task, within its default delivery
guarantee; the benchmark's README names them.
"""

import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rendered_service import PACKAGE

# Producer and latency scripts print one line: a rate, or latencies in ms.
# Environment of both: BENCH_REDIS_URL, BENCH_QUEUE, BENCH_KEY, BENCH_TASKS,
# and for latency BENCH_POLL (seconds between result checks, "" for default).

# Callers of the synchronous queues (Celery, Dramatiq): the same loops, each
# with its own send or round trip.
SYNC_SEND = """
import os, time
from bench_tasks import effect

key, tasks = os.environ["BENCH_KEY"], int(os.environ["BENCH_TASKS"])
started = time.perf_counter()
for _ in range(tasks):
    {send}
print(tasks / (time.perf_counter() - started))
"""

SYNC_LATENCY = """
import json, os, time
from bench_tasks import effect

key, tasks = os.environ["BENCH_KEY"], int(os.environ["BENCH_TASKS"])
latencies = []
for _ in range(tasks):
    started = time.perf_counter()
    {round_trip}
    latencies.append((time.perf_counter() - started) * 1000)
print(json.dumps(latencies))
"""

TASKIQ_SEND = """
import asyncio, os, time
from taskiq.kicker import AsyncKicker
from bench_tasks import broker

async def main() -> None:
    key, tasks = os.environ["BENCH_KEY"], int(os.environ["BENCH_TASKS"])
    await broker.startup()
    kicker = AsyncKicker("bench.effect", broker, labels={})
    started = time.perf_counter()
    for _ in range(tasks):
        await kicker.kiq(key)
    print(tasks / (time.perf_counter() - started))
    await broker.shutdown()

asyncio.run(main())
"""

TASKIQ_LATENCY = """
import asyncio, json, os, time
from bench_tasks import broker

async def main() -> None:
    key, tasks = os.environ["BENCH_KEY"], int(os.environ["BENCH_TASKS"])
    poll = {"check_interval": float(p)} if (p := os.environ["BENCH_POLL"]) else {}
    await broker.startup()
    # The task as its callers use it: the service's tasks wait for results
    # their own way (worker/waiting.py).
    effect = broker.find_task("bench.effect")
    latencies = []
    for _ in range(tasks):
        started = time.perf_counter()
        task = await effect.kiq(key)
        result = await task.wait_result(timeout=30, **poll)
        latencies.append((time.perf_counter() - started) * 1000)
        assert not result.is_err, result.error
    print(json.dumps(latencies))
    await broker.shutdown()

asyncio.run(main())
"""

# The generated service's broker, middlewares, result backend and job events;
# the task takes a dependency of the shared graph (the settings).
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

# taskiq-redis as it comes: no middleware, no dependency, results only when
# the latency is measured (the throughput runs store none).
BARE_TASKIQ_TASKS = """
import os

import redis.asyncio as aioredis
from taskiq_redis import ListQueueBroker, RedisAsyncResultBackend, RedisStreamBroker

url = os.environ["BENCH_REDIS_URL"]
queue = os.environ["BENCH_QUEUE"]
if os.environ["BENCH_BROKER"] == "stream":
    broker = RedisStreamBroker(url, queue_name=queue)
else:
    broker = ListQueueBroker(url, queue_name=queue)
if os.environ.get("BENCH_RESULTS") == "1":
    broker = broker.with_result_backend(
        RedisAsyncResultBackend(url, result_ex_time=600)
    )
counter = aioredis.Redis.from_url(url)


@broker.task(task_name="bench.effect")
async def effect(key: str) -> None:
    await counter.incr(key)
"""

# Celery: a solo pool per process (no prefork hand-off), a deep prefetch, no
# results, events, gossip, mingle or heartbeats. Acknowledged on receipt
# (Celery's default): a crashed worker loses the tasks it held.
CELERY_TASKS = """
import os

import redis
from celery import Celery

url = os.environ["BENCH_REDIS_URL"]
queue = os.environ["BENCH_QUEUE"]
results = os.environ.get("BENCH_RESULTS") == "1"
app = Celery("bench_tasks", broker=url, backend=url if results else None)
app.conf.update(
    task_default_queue=queue,
    task_ignore_result=not results,
    result_expires=600,
    worker_prefetch_multiplier=64,
    worker_send_task_events=False,
    broker_connection_retry_on_startup=True,
    broker_transport_options={"global_keyprefix": f"{queue}:"},
    result_backend_transport_options={"global_keyprefix": f"{queue}:"},
)
counter = redis.Redis.from_url(url)


@app.task(name="bench.effect")
def effect(key: str) -> None:
    counter.incr(key)
"""

CELERY_SEND = SYNC_SEND.format(send="effect.delay(key)")

# Celery's Redis result backend wakes the caller through pub/sub: no poll.
CELERY_LATENCY = SYNC_LATENCY.format(round_trip="effect.delay(key).get(timeout=30)")

# ARQ: up to 1,000 jobs at once per process and a 5 ms poll of the queue
# (defaults: 10 jobs, 0.5 s, which cap it near 20 tasks/s); results kept only
# when the latency is measured.
ARQ_TASKS = """
import os
from typing import Any

from arq.connections import RedisSettings

url = os.environ["BENCH_REDIS_URL"]
queue = os.environ["BENCH_QUEUE"]
redis_settings = RedisSettings.from_dsn(url)


async def effect(ctx: dict[str, Any], key: str) -> None:
    await ctx["redis"].incr(key)


class WorkerSettings:
    functions = [effect]
    redis_settings = redis_settings
    queue_name = queue
    max_jobs = 1000
    poll_delay = 0.005
    keep_result = 600 if os.environ.get("BENCH_RESULTS") == "1" else 0
    log_results = False
"""

ARQ_SEND = """
import asyncio, os, time
from arq import create_pool
from bench_tasks import queue, redis_settings

async def main() -> None:
    key, tasks = os.environ["BENCH_KEY"], int(os.environ["BENCH_TASKS"])
    pool = await create_pool(redis_settings, default_queue_name=queue)
    started = time.perf_counter()
    for _ in range(tasks):
        await pool.enqueue_job("effect", key)
    print(tasks / (time.perf_counter() - started))
    await pool.aclose()

asyncio.run(main())
"""

ARQ_LATENCY = """
import asyncio, json, os, time
from arq import create_pool
from arq.jobs import ResultNotFound
from bench_tasks import queue, redis_settings

async def main() -> None:
    key, tasks = os.environ["BENCH_KEY"], int(os.environ["BENCH_TASKS"])
    poll = {"poll_delay": float(p)} if (p := os.environ["BENCH_POLL"]) else {}
    pool = await create_pool(redis_settings, default_queue_name=queue)
    latencies = []
    for _ in range(tasks):
        started = time.perf_counter()
        job = await pool.enqueue_job("effect", key)
        try:
            await job.result(timeout=30, **poll)
        except ResultNotFound:
            # arq 0.25 reads the result, then the queue, in two commands: a job
            # finishing in between looks lost. Its result is there now.
            await job.result(timeout=30, **poll)
        latencies.append((time.perf_counter() - started) * 1000)
    print(json.dumps(latencies))
    await pool.aclose()

asyncio.run(main())
"""

# Dramatiq: its Redis broker (acknowledged after the task, re-delivered when a
# worker dies) with its default middleware, 8 threads per process.
DRAMATIQ_TASKS = """
import os

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.results import Results
from dramatiq.results.backends import RedisBackend

url = os.environ["BENCH_REDIS_URL"]
queue = os.environ["BENCH_QUEUE"]
results = os.environ.get("BENCH_RESULTS") == "1"
broker = RedisBroker(url=url, namespace=queue)
if results:
    backend = RedisBackend(url=url, namespace=f"{queue}-results")
    broker.add_middleware(Results(backend=backend, result_ttl=600_000))
dramatiq.set_broker(broker)
counter = redis.Redis.from_url(url)


@dramatiq.actor(actor_name="effect", **({"store_results": True} if results else {}))
def effect(key: str) -> None:
    counter.incr(key)
"""

DRAMATIQ_SEND = SYNC_SEND.format(send="effect.send(key)")

# Dramatiq's Redis result backend blocks on the result key: no poll.
DRAMATIQ_LATENCY = SYNC_LATENCY.format(
    round_trip="effect.send(key).get_result(block=True, timeout=30_000)"
)

# Keeps redis-py from finding hiredis (arq, in the bench group, installs it;
# generated services do not list it).
NO_HIREDIS = 'import sys\n\nsys.modules["hiredis"] = None  # type: ignore\n'


def taskiq_workers(processes: int) -> list[list[str]]:
    return [
        [
            *(sys.executable, "-m", "taskiq", "worker", "bench_tasks:broker"),
            *("--workers", str(processes), "--log-level", "WARNING"),
        ]
    ]


def celery_workers(processes: int) -> list[list[str]]:
    return [
        [
            *(sys.executable, "-m", "celery", "-A", "bench_tasks", "worker"),
            *("--pool", "solo", "--hostname", f"bench{index}@%h"),
            *("--without-gossip", "--without-mingle", "--without-heartbeat"),
            *("--loglevel", "WARNING"),
        ]
        for index in range(processes)
    ]


def arq_workers(processes: int) -> list[list[str]]:
    command = [sys.executable, "-m", "arq", "bench_tasks.WorkerSettings"]
    return [command for _ in range(processes)]


def dramatiq_workers(processes: int) -> list[list[str]]:
    return [
        [
            *(sys.executable, "-m", "dramatiq", "bench_tasks"),
            *("--processes", str(processes), "--threads", "8"),
        ]
    ]


@dataclass
class Queue:
    """A queue as the benchmarks run it."""

    name: str
    delivery: str
    tasks_module: str
    send: str
    latency: str
    workers: Callable[[int], list[list[str]]]
    env: dict[str, str] = field(default_factory=dict)
    # Seconds between result checks to measure, "" being the library default;
    # a queue that wakes its callers has no poll to vary.
    polls: tuple[str, ...] = ("",)

    def write(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        for name, text in (
            ("bench_tasks.py", self.tasks_module),
            ("bench_send.py", self.send),
            ("bench_latency.py", self.latency),
        ):
            (directory / name).write_text(textwrap.dedent(text))
        if self.env.get("BENCH_HIREDIS") == "0":
            (directory / "sitecustomize.py").write_text(NO_HIREDIS)


def peer_queues() -> list[Queue]:
    return [
        Queue(
            "Celery (solo pool)",
            "at most once",
            CELERY_TASKS,
            CELERY_SEND,
            CELERY_LATENCY,
            celery_workers,
        ),
        Queue(
            "ARQ",
            "at least once",
            ARQ_TASKS,
            ARQ_SEND,
            ARQ_LATENCY,
            arq_workers,
            polls=("", "0.005"),
        ),
        Queue(
            "Dramatiq",
            "at least once",
            DRAMATIQ_TASKS,
            DRAMATIQ_SEND,
            DRAMATIQ_LATENCY,
            dramatiq_workers,
        ),
    ]
