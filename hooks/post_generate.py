"""Runs after `copier copy` / `copier update` inside the generated service.

Copier runs tasks up to three times per update (old copy, project, new copy), so
every step here is idempotent and cheap, and a missing tool is never fatal.

It does not write uv.lock: that needs the package index and would run on every
render and update; the service's first `uv run` (or `uv lock`) writes it, and the
generated README asks the team to commit it for the image and CI (`--locked`).
"""

import argparse
import shutil
import subprocess
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--operation", choices=["copy", "update", "recopy"])
    operation = parser.parse_args().operation
    project = Path.cwd()

    if operation == "copy":
        init_git(project)
    if shutil.which("uv") is None:
        print(
            "uv is not installed: see https://docs.astral.sh/uv/ "
            "(or `pip install uv`), then run `uv run pytest` in the service."
        )


def init_git(project: Path) -> None:
    """`copier update` needs the service in git; start a repository if none,
    but never inside another one (a service kept in a team's monorepo)."""
    if shutil.which("git") is None:
        print("git is not installed: `git init` the service before `copier update`.")
        return
    inside = subprocess.run(
        ["git", "rev-parse", "--is-inside-work-tree"],
        cwd=project,
        capture_output=True,
        text=True,
    )
    if inside.stdout.strip() == "true":
        return
    result = subprocess.run(
        ["git", "init", "--quiet"], cwd=project, capture_output=True, text=True
    )
    if result.returncode != 0:
        print(f"git init failed ({result.stderr.strip()}): run it yourself.")


if __name__ == "__main__":
    main()
