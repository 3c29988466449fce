"""What authentication costs a generated service, in one process and one run.

- per request: ``GET`` of a route that checks an access token
  (``CurrentPrincipal``) against the same route declared public, through the
  whole ASGI app (middlewares included), and the token check alone;
- per login: ``POST /auth/token`` with the password form (Argon2 verify, a
  refresh token written to SQLite, an access token signed).

Run:

    uv run python bench/auth_cost.py [--requests 5000] [--logins 30]
"""

import argparse
import asyncio
import importlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from fastapi import Depends
from rendered_service import BENCH_SECRET_KEY, PACKAGE, machine_report, render


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def timed_requests(
    client: httpx.AsyncClient, count: int, **request: Any
) -> list[float]:
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        response = await client.request(**request)
        samples.append((time.perf_counter() - started) * 1e6)
        assert response.status_code == 200, response.text
    return samples


async def run(project: Path, requests: int, logins: int) -> None:
    # The broker is built when its module is first imported: tasks in-process,
    # nothing written to disk.
    os.environ["APP_BROKER_URL"] = "memory://"
    sys.path.insert(0, str(project / "src"))
    app_module = importlib.import_module(f"{PACKAGE}.app")
    deps = importlib.import_module(f"{PACKAGE}.deps")
    principal_module = importlib.import_module(f"{PACKAGE}.auth.principal")
    settings_module = importlib.import_module(f"{PACKAGE}.auth.settings")
    tokens = importlib.import_module(f"{PACKAGE}.auth.tokens")
    service_settings = importlib.import_module(f"{PACKAGE}.settings")
    migrate = importlib.import_module(f"{PACKAGE}.migrate")
    auth_service = importlib.import_module(f"{PACKAGE}.auth.service")
    db = importlib.import_module(f"{PACKAGE}.db")

    database_url = f"sqlite+aiosqlite:///{project / 'app.db'}"
    await asyncio.to_thread(migrate.upgrade_database, database_url)
    settings = service_settings.Settings(
        _env_file=None, database_url=database_url, broker_url="memory://"
    )
    auth = settings_module.AuthSettings(
        _env_file=None,
        auth_secret_key=BENCH_SECRET_KEY,
        auth_login_rate_limit="1000000/minute",
    )
    app = app_module.create_app(settings, auth)

    # The same empty route twice: declared public, and behind a token check.
    async def empty() -> dict[str, str]:
        return {}

    app.add_api_route("/bench/public", empty, dependencies=[deps.Public])
    app.add_api_route(
        "/bench/signed-in",
        empty,
        dependencies=[Depends(deps.get_current_principal)],
    )

    principal = principal_module.Principal.for_user(1, ["admin"])
    token = tokens.issue_access_token(principal, auth)
    headers = {"Authorization": f"Bearer {token}"}

    engine = db.create_engine(database_url)
    async with db.create_sessionmaker(engine)() as session:
        await auth_service.make_admin(session, "bench@example.com", "bench password")
        await session.commit()
    await engine.dispose()

    async with app.router.lifespan_context(app) as state:

        async def with_state(scope: Any, receive: Any, send: Any) -> None:
            scope["state"] = dict(state or {})
            await app(scope, receive, send)

        transport = httpx.ASGITransport(app=with_state)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://b"
        ) as client:
            for path, extra in (("/bench/public", {}), ("/bench/signed-in", headers)):
                await timed_requests(client, 200, method="GET", url=path, headers=extra)
            none = await timed_requests(
                client, requests, method="GET", url="/bench/public"
            )
            verified = await timed_requests(
                client, requests, method="GET", url="/bench/signed-in", headers=headers
            )
            login = await timed_requests(
                client,
                logins,
                method="POST",
                url="/auth/token",
                data={"username": "bench@example.com", "password": "bench password"},
            )
        verifier = state["token_verifier"] if state else None
        checks = []
        for _ in range(requests):
            started = time.perf_counter()
            await verifier.verify(token)  # type: ignore[union-attr]
            checks.append((time.perf_counter() - started) * 1e6)

    print(machine_report(["fastapi", "pyjwt", "pwdlib", "argon2-cffi"]))
    print(f"\n{requests} requests each, one at a time, in-process ASGI\n")
    print("| | p50 (µs) | p99 (µs) |")
    print("| --- | ---: | ---: |")
    rows = [
        ("request, public route (no token)", none),
        ("request, token verified (`CurrentPrincipal`)", verified),
        ("token check alone (`verify`)", checks),
    ]
    for name, samples in rows:
        p50, p99 = statistics.median(samples), percentile(samples, 0.99)
        print(f"| {name} | {p50:.0f} | {p99:.0f} |")
    added = statistics.median(verified) - statistics.median(none)
    print(f"\nAuthentication adds {added:.0f} µs per request (p50).")
    print(
        f"Login (`POST /auth/token`, {logins} in a row): p50 "
        f"{statistics.median(login) / 1000:.1f} ms, "
        f"p99 {percentile(login, 0.99) / 1000:.1f} ms."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--logins", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "service"
        render(project, [])
        asyncio.run(run(project, args.requests, args.logins))


if __name__ == "__main__":
    main()
