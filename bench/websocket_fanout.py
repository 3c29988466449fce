"""Fan-out of one frame to many WebSocket clients in a room, one API process.

Renders a service with the ``websocket`` module and runs ``<package> api`` on the
embedded SQLite backplane and on Redis, next to a bare Starlette app that loops
over its sockets and sends (the floor: no rooms, no queues, no backplane). For
each, ``--clients`` clients join one room; one of them sends ``--broadcasts``
frames, each stamped with its send time; every client notes when it receives
each frame. Prints the delivery time (p50, p99) and the server's resident
memory per connection. Run:

    uv run python bench/websocket_fanout.py [--clients 1000] [--broadcasts 20]
"""

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from rendered_service import BENCH_SECRET_KEY, PACKAGE, access_token, render, rss_kib
from websockets.asyncio.client import ClientConnection, connect

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")

# The floor: a Starlette app that sends each text frame to every socket.
BARE_APP = """
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

sockets: set[WebSocket] = set()


async def room(websocket: WebSocket) -> None:
    await websocket.accept()
    sockets.add(websocket)
    try:
        while True:
            text = await websocket.receive_text()
            for other in list(sockets):
                await other.send_text(text)
    except WebSocketDisconnect:
        sockets.discard(websocket)


app = Starlette(routes=[WebSocketRoute("/ws/rooms/{room}", room)])
"""


def wait_for_port(port: int) -> None:
    for _ in range(300):
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


def frame_text(frame: str) -> str:
    """The chat text of a service frame, the frame itself for the bare app."""
    try:
        decoded = json.loads(frame)
    except json.JSONDecodeError:
        return frame
    text: str = decoded.get("text", "") if isinstance(decoded, dict) else frame
    return text


async def measure(
    url: str,
    token: str,
    pid: int,
    clients: int,
    broadcasts: int,
    encode: Callable[[str], str],
) -> tuple[float, float, float]:
    """p50 and p99 delivery in ms, and KiB of server memory per connection."""
    before = rss_kib(pid)
    sockets: list[ClientConnection] = []
    for start in range(0, clients, 100):  # Joins in batches: a thundering herd
        batch = [
            # The access token as browsers send it (the bare app ignores it).
            connect(url, max_queue=None, subprotocols=["bearer", token])  # type: ignore[list-item]
            for _ in range(start, start + 100)
        ]
        sockets += await asyncio.gather(*batch)  # is not what is measured.
    await asyncio.sleep(1)
    per_connection = (rss_kib(pid) - before) / clients
    delays: list[float] = []

    async def collect(websocket: ClientConnection, expected: int) -> None:
        seen = 0
        while seen < expected:
            text = frame_text(str(await websocket.recv()))
            if text.startswith("t="):
                delays.append(time.perf_counter() - float(text[2:]))
                seen += 1

    readers = [asyncio.create_task(collect(s, broadcasts)) for s in sockets]
    for _ in range(broadcasts):
        await sockets[0].send(encode(f"t={time.perf_counter()}"))
        await asyncio.sleep(0.2)
    await asyncio.wait_for(asyncio.gather(*readers), timeout=120)
    for websocket in sockets:
        await websocket.close()
    delays.sort()
    p50 = statistics.median(delays) * 1000
    p99 = delays[int(len(delays) * 0.99) - 1] * 1000
    return p50, p99, per_connection


async def run_case(
    port: int,
    name: str,
    start: Callable[[int], subprocess.Popen[bytes]],
    url: Callable[[int], str],
    token: str,
    clients: int,
    broadcasts: int,
    encode: Callable[[str], str],
) -> None:
    server = start(port)
    try:
        wait_for_port(port)
        p50, p99, memory = await measure(
            url(port), token, server.pid, clients, broadcasts, encode
        )
        print(f"| {name} | {p50:.1f} | {p99:.1f} | {memory:.1f} |")
    finally:
        server.terminate()
        server.wait(timeout=30)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--broadcasts", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "service"
        render(project, ["websocket"])
        (Path(tmp) / "bare_app.py").write_text(BARE_APP)
        sys.path.insert(0, str(project / "src"))
        token = access_token(scopes=("room:*",))
        base_env = {k: v for k, v in os.environ.items() if not k.startswith("APP_")}

        def service(broker_url: str) -> Callable[[int], subprocess.Popen[bytes]]:
            def start(port: int) -> subprocess.Popen[bytes]:
                env = {
                    **base_env,
                    "PYTHONPATH": str(project / "src"),
                    "APP_DATABASE_URL": f"sqlite+aiosqlite:///{project}/var/app.db",
                    "APP_BROKER_URL": broker_url,
                    "APP_API_PORT": str(port),
                    "APP_LOG_LEVEL": "WARNING",
                    "APP_WS_SEND_QUEUE_SIZE": str(args.broadcasts * 2),
                    "APP_AUTH_SECRET_KEY": BENCH_SECRET_KEY,
                }
                command = [sys.executable, "-m", PACKAGE]
                subprocess.run([*command, "migrate"], env=env, check=True, cwd=project)
                return subprocess.Popen([*command, "api"], env=env, cwd=project)

            return start

        def bare(port: int) -> subprocess.Popen[bytes]:
            command = [sys.executable, "-m", "uvicorn", "bare_app:app"]
            options = ["--port", str(port), "--log-level", "warning"]
            return subprocess.Popen([*command, *options], cwd=tmp)

        def chat(text: str) -> str:
            return json.dumps({"type": "message", "text": text})

        def room(port: int) -> str:
            return f"ws://127.0.0.1:{port}/ws/rooms/bench"

        print(f"{args.clients} clients in one room, {args.broadcasts} broadcasts\n")
        print("| server | p50 delivery (ms) | p99 delivery (ms) | KiB per connection |")
        print("| --- | ---: | ---: | ---: |")
        cases: list[
            tuple[str, Callable[[int], subprocess.Popen[bytes]], Callable[[str], str]]
        ] = [
            ("bare Starlette loop", bare, str),
            (
                "service, SQLite backplane",
                service(f"sqlite:///{project}/var/b.db"),
                chat,
            ),
            ("service, Redis backplane", service(REDIS_URL), chat),
        ]
        for number, (name, start, encode) in enumerate(cases):
            port = 8770 + number
            await run_case(
                port, name, start, room, token, args.clients, args.broadcasts, encode
            )


if __name__ == "__main__":
    asyncio.run(main())
