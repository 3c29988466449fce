"""What the benchmarks share: a generated service to run, and process memory."""

import os
import platform
import warnings
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import copier

ROOT = Path(__file__).resolve().parent.parent
# The package name Copier derives from the project name below.
PACKAGE = "bench_service"


def render(destination: Path, modules: list[str]) -> None:
    """This checkout of the template (uncommitted changes included), or the
    commit named by ``BENCH_VCS_REF`` (to compare two versions)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        copier.run_copy(
            str(ROOT),
            destination,
            data={"project_name": "Bench Service", "modules": modules},
            defaults=True,
            unsafe=True,
            quiet=True,
            vcs_ref=os.environ.get("BENCH_VCS_REF", "HEAD"),
        )


# The generated service signs its access tokens with this (APP_AUTH_SECRET_KEY).
BENCH_SECRET_KEY = "bench-only-secret-key-0123456789-abcdefghij"


def access_token(*, roles: tuple[str, ...] = (), scopes: tuple[str, ...] = ()) -> str:
    """An access token of the rendered service, as its login would issue it
    (the service's ``src`` must be on ``sys.path``)."""
    import importlib

    principal_module = importlib.import_module(f"{PACKAGE}.auth.principal")
    settings_module = importlib.import_module(f"{PACKAGE}.auth.settings")
    tokens = importlib.import_module(f"{PACKAGE}.auth.tokens")
    principal = principal_module.Principal(
        "bench", roles=frozenset(roles), scopes=frozenset(scopes)
    )
    settings = settings_module.AuthSettings(
        _env_file=None, auth_secret_key=BENCH_SECRET_KEY
    )
    token: str = tokens.issue_access_token(principal, settings, ttl_seconds=24 * 3600)
    return token


def rss_kib(pid: int) -> int:
    """Resident memory of a process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def machine_report(packages: list[str], *, machine: bool = True) -> str:
    """What the figures depend on: the machine, its load now, the versions."""
    lines = []
    if machine:
        model = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
        lines.append(
            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {os.cpu_count()} cores, {model}; "
            f"Python {platform.python_version()}"
        )
    load = Path("/proc/loadavg").read_text().split()[:3]
    lines.append(f"load average (1, 5, 15 min): {', '.join(load)}")
    if packages:
        lines.append(", ".join(f"{name} {version(name)}" for name in packages))
    return "\n".join(lines)
