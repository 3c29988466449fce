"""What the benchmarks share: a generated service to run, and process memory."""

import warnings
from pathlib import Path

import copier

ROOT = Path(__file__).resolve().parent.parent
# The package name Copier derives from the project name below.
PACKAGE = "bench_service"


def render(destination: Path, modules: list[str]) -> None:
    """This checkout of the template (uncommitted changes included)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        copier.run_copy(
            str(ROOT),
            destination,
            data={"project_name": "Bench Service", "modules": modules},
            defaults=True,
            unsafe=True,
            quiet=True,
            vcs_ref="HEAD",
        )


def rss_kib(pid: int) -> int:
    """Resident memory of a process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")
