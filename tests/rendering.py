"""Render the template through Copier's API, as users do with `copier copy`."""

import os
import subprocess
import sys
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import copier
import yaml

ROOT = Path(__file__).resolve().parent.parent
COPIER_YML: dict[str, Any] = yaml.safe_load((ROOT / "copier.yml").read_text())
ALL_MODULES: list[str] = list(COPIER_YML["modules"]["choices"].values())
BASE_ANSWERS = {"project_name": "Demo Service"}
PACKAGE = "demo_service"

# Named combinations of answers: every module alone, none, all, and each
# production choice; together they render every pair of answers (test_matrix).
COMBINATIONS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "no-modules": {"modules": [], "python_version": "3.13"},
    "all-modules": {"modules": ALL_MODULES},
    **{
        f"only-{module}": {"modules": [module], "python_version": "3.12"}
        for module in ALL_MODULES
    },
    "postgresql": {"database": "postgresql", "modules": ALL_MODULES},
    "rabbitmq": {"broker": "rabbitmq", "modules": ALL_MODULES},
    "python-3.12-rabbitmq-postgresql": {
        "python_version": "3.12",
        "broker": "rabbitmq",
        "database": "postgresql",
        "modules": [],
    },
    "python-3.13-rabbitmq-postgresql": {
        "python_version": "3.13",
        "broker": "rabbitmq",
        "database": "postgresql",
        "modules": ALL_MODULES,
    },
}


def render(destination: Path, answers: Mapping[str, Any]) -> Path:
    """Render into ``destination`` with the given answers on top of the defaults."""
    with warnings.catch_warnings():
        # Rendering the working tree of this repository, changes included.
        warnings.simplefilter("ignore")
        copier.run_copy(
            str(ROOT),
            destination,
            data={**BASE_ANSWERS, **answers},
            defaults=True,
            unsafe=True,
            quiet=True,
            vcs_ref="HEAD",
        )
    return destination


def run(
    command: list[str],
    cwd: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = 600,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def python(*args: str) -> list[str]:
    """A tool from this shared environment (ruff, mypy, pytest) as a command."""
    return [sys.executable, "-m", *args]
