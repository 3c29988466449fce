"""Memory of a generated service's API process while it streams a large export.

Renders a service with the streaming module, fills its SQLite database with
``--rows`` users, starts ``<package> api`` and downloads ``/users/export.csv`` and
``/users/export.jsonl`` as ``curl -N`` would, reading and dropping each chunk.
The API process's resident memory is sampled every 10 ms from /proc. Run:

    uv run python bench/export_memory.py [--rows 1000000]
"""

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from rendered_service import (
    BENCH_SECRET_KEY,
    PACKAGE,
    access_token,
    render,
    rss_kib,
)


def fill(database: Path, rows: int) -> None:
    with sqlite3.connect(database) as connection:
        connection.executemany(
            "INSERT INTO users (email, password_hash, created_at) VALUES (?, ?, ?)",
            (
                (f"user{i}@example.com", "x", "2026-01-01 00:00:00.000000")
                for i in range(rows)
            ),
        )


class PeakSampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = rss_kib(pid)
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(0.01):
            self.peak = max(self.peak, rss_kib(self.pid))


def download(url: str, token: str, pid: int) -> tuple[int, float, float, int, int]:
    """Bytes, seconds to the first byte, seconds in all, RSS before, peak RSS."""
    before = rss_kib(pid)
    sampler = PeakSampler(pid)
    sampler.start()
    received = 0
    started = time.perf_counter()
    first_byte = 0.0
    headers = {"Authorization": f"Bearer {token}"}  # exports are admin-only
    with httpx.stream("GET", url, headers=headers, timeout=600) as response:
        response.raise_for_status()
        for chunk in response.iter_bytes():
            if not received:
                first_byte = time.perf_counter() - started
            received += len(chunk)
    total = time.perf_counter() - started
    sampler.stopped.set()
    sampler.join()
    return received, first_byte, total, before, sampler.peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "service"
        render(project, ["streaming"])
        sys.path.insert(0, str(project / "src"))
        token = access_token(roles=("admin",))
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("APP_")},
            "PYTHONPATH": str(project / "src"),
            "APP_DATABASE_URL": f"sqlite+aiosqlite:///{project}/var/app.db",
            "APP_BROKER_URL": f"sqlite:///{project}/var/broker.db",
            "APP_API_PORT": "8765",
            "APP_LOG_LEVEL": "WARNING",
            "APP_AUTH_SECRET_KEY": BENCH_SECRET_KEY,
        }
        command = [sys.executable, "-m", PACKAGE]
        subprocess.run([*command, "migrate"], env=env, check=True, cwd=project)
        fill(project / "var" / "app.db", args.rows)
        api = subprocess.Popen([*command, "api"], env=env, cwd=project)
        try:
            base = "http://127.0.0.1:8765"
            for _ in range(300):
                try:
                    httpx.get(f"{base}/health/live").raise_for_status()
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            print(f"{args.rows:,} users; API process RSS sampled every 10 ms\n")
            print(
                "| export | MB sent | first byte (s) | total (s) "
                "| RSS before | peak RSS | growth |"
            )
            print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
            for name in ("export.csv", "export.jsonl"):
                sent, first, total, before, peak = download(
                    f"{base}/users/{name}", token, api.pid
                )
                print(
                    f"| {name} | {sent / 1e6:.1f} | {first:.3f} | {total:.1f} "
                    f"| {before / 1024:.1f} MB | {peak / 1024:.1f} MB "
                    f"| {(peak - before) / 1024:.1f} MB |"
                )
        finally:
            api.terminate()
            api.wait(timeout=30)


if __name__ == "__main__":
    main()
