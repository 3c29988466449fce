"""HTTP requests per second on one API process: a generated service against a
bare FastAPI app, in one invocation.

The load comes from ``wrk`` (one thread, keep-alive connections: ``--connections``
for GET, ``--post-connections`` for POST) in its own process, on the same
machine. Each server runs alone under uvicorn with one process and its log at
WARNING (no access log):

- service: ``<package> api`` of a rendered service, its database on SQLite,
  its broker on Redis (``POST /users`` stores the user, hashes the password
  with argon2 in a thread and enqueues the welcome e-mail; no worker runs, the
  messages are deleted afterwards);
- bare FastAPI: the same request and response models, nothing stored, no
  hash (the floor of FastAPI and uvicorn);
- bare FastAPI + argon2: the bare app hashing the password as the service does
  (how much of the service's cost is the hash).

Every ``POST /users`` carries a new e-mail address; any answer other than
201 (or 200 for ``/health/live``) stops the benchmark. Run:

    uv run python bench/http_requests.py [--seconds 10] [--connections 32]
"""

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import redis
from rendered_service import PACKAGE, machine_report, render

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")

BARE_APP = """
import asyncio
import os
from datetime import UTC, datetime
from itertools import count

from fastapi import FastAPI, status
from pwdlib import PasswordHash
from pydantic import BaseModel, EmailStr, SecretStr

app = FastAPI()
ids = count(1)
hasher = PasswordHash.recommended() if os.environ.get("BENCH_HASH") == "1" else None


class UserCreate(BaseModel):
    email: EmailStr
    password: SecretStr


class UserCreated(BaseModel):
    id: int
    email: str
    created_at: datetime
    welcome_email_job_id: str


@app.post("/users", status_code=status.HTTP_201_CREATED)
async def register_user(data: UserCreate) -> UserCreated:
    if hasher is not None:
        await asyncio.to_thread(hasher.hash, data.password.get_secret_value())
    return UserCreated(
        id=next(ids),
        email=data.email,
        created_at=datetime.now(UTC),
        welcome_email_job_id="",
    )


@app.get("/health/live")
async def live() -> dict[str, str]:
    return {"status": "ok"}
"""

# A new address per request: a thread's counter behind a prefix given per run.
POST_USERS_LUA = """
local prefix, counter = "", 0
init = function(args) prefix = args[1] end
request = function()
  counter = counter + 1
  local body = '{"email": "u' .. prefix .. '-' .. counter ..
    '@example.com", "password": "correct horse"}'
  return wrk.format("POST", "/users", {["Content-Type"] = "application/json"}, body)
end
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def server(command: list[str], cwd: Path, env: dict[str, str]) -> Iterator[str]:
    port = free_port()
    env = {**env, "APP_API_PORT": str(port), "BENCH_PORT": str(port)}
    command = [part.replace("{port}", str(port)) for part in command]
    log = cwd / f"server-{port}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{url}/health/live", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                if process.poll() is not None or time.monotonic() > deadline:
                    text = log.read_text()
                    raise RuntimeError(f"{command} did not start:\n{text}") from None
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def wrk(url: str, path: str, seconds: int, connections: int, script: Path) -> str:
    """Requests per second and latency percentiles, as a table row's cells."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s"]
    command.append("--latency")
    if path == "/users":
        command += ["-s", str(script), f"{url}{path}", "--", uuid.uuid4().hex[:12]]
    else:
        command.append(f"{url}{path}")
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in output or "Socket errors" in output:
        raise RuntimeError(f"failed requests on {url}{path}:\n{output}")
    rate = float(found(r"Requests/sec:\s+([\d.]+)", output))
    p50, p99 = (found(rf"^\s+{n}%\s+(\S+)", output) for n in (50, 99))
    return f"{rate:,.0f} | {milliseconds(p50)} | {milliseconds(p99)}"


def found(pattern: str, text: str) -> str:
    """The first group of a pattern's first match in wrk's report."""
    match = re.search(pattern, text, re.MULTILINE)
    if match is None:
        raise RuntimeError(f"{pattern!r} not in wrk's report:\n{text}")
    return match.group(1)


def milliseconds(wrk_time: str) -> str:
    """wrk prints 812.00us, 3.21ms or 1.02s."""
    unit = found(r"[\d.]+(us|ms|s)$", wrk_time)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    return f"{float(wrk_time.removesuffix(unit)) * scale:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    # A hash takes ~50 ms of CPU: more connections than threads only queue.
    parser.add_argument("--post-connections", type=int, default=8)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install -y wrk")
    print(machine_report(["fastapi", "starlette", "uvicorn", "pydantic", "httpx"]))
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
    print((wrk_version.stdout + wrk_version.stderr).splitlines()[0], "\n")
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "service"
        render(project, [])
        script = Path(tmp) / "post_users.lua"
        script.write_text(POST_USERS_LUA)
        bare_dir = Path(tmp) / "bare"
        bare_dir.mkdir()
        (bare_dir / "bare_app.py").write_text(BARE_APP)
        queue = f"bench-{uuid.uuid4().hex}"
        base = {k: v for k, v in os.environ.items() if not k.startswith("APP_")}
        service_env = {
            **base,
            "PYTHONPATH": str(project / "src"),
            "APP_DATABASE_URL": f"sqlite+aiosqlite:///{project}/var/app.db",
            "APP_BROKER_URL": REDIS_URL,
            "APP_TASK_QUEUE": queue,
            "APP_RESULT_TTL_SECONDS": "600",
            "APP_LOG_LEVEL": "WARNING",
            # wrk sends every registration from one address: measure the
            # endpoint, not its brute-force limit.
            "APP_REGISTRATION_RATE_LIMIT": "1000000/minute",
        }
        subprocess.run(
            [sys.executable, "-m", PACKAGE, "migrate"],
            env=service_env,
            cwd=project,
            check=True,
            capture_output=True,
        )
        uvicorn = [
            *(sys.executable, "-m", "uvicorn", "bare_app:app"),
            *("--port", "{port}", "--log-level", "warning"),
        ]
        servers = [
            ("service", [sys.executable, "-m", PACKAGE, "api"], project, service_env),
            ("bare FastAPI", uvicorn, bare_dir, base),
            ("bare FastAPI + argon2", uvicorn, bare_dir, {**base, "BENCH_HASH": "1"}),
        ]
        print(
            f"{args.connections} connections for GET, {args.post_connections} for "
            f"POST, {args.seconds} s per row after a 2 s warm-up\n"
        )
        print("| server | endpoint | requests/s | p50 (ms) | p99 (ms) |")
        print("| --- | --- | ---: | ---: | ---: |")
        try:
            for name, command, cwd, env in servers:
                with server(command, cwd, env) as url:
                    for path in ("/health/live", "/users"):
                        if name.endswith("argon2") and path != "/users":
                            continue
                        connections = (
                            args.post_connections
                            if path == "/users"
                            else args.connections
                        )
                        wrk(url, path, 2, connections, script)  # warm-up
                        cells = wrk(url, path, args.seconds, connections, script)
                        method = "POST" if path == "/users" else "GET"
                        print(f"| {name} | {method} {path} | {cells} |", flush=True)
        finally:
            client = redis.Redis.from_url(REDIS_URL)
            for key in client.scan_iter(match=f"*{queue}*", count=1000):
                client.delete(key)
            client.close()
    print("\n" + machine_report([], machine=False))


if __name__ == "__main__":
    main()
