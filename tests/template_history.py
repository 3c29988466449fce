"""Which rendered paths the template has ever shipped, and which are gone.

Every commit of this repository is something a team may have generated a
service from (`copier copy` takes the latest tag, or HEAD before the first).
When a path the template once rendered is gone, `copier update` deletes it in
those services, edits and all, unless copier.yml declares the move
(`hooks/move_files.py` then carries the edits) or the removal is deliberate.
"""

import re
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

MOVE_SCRIPT = "hooks/move_files.py"
_CONDITIONAL = re.compile(r"{%-?\s*if\b[^%]*%}(.*?){%-?\s*endif\s*-?%}")
_VARIABLE = re.compile(r"{{\s*([\w.]+)\s*}}")


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=True
    )
    return result.stdout


def rendered_name(template_path: str) -> str:
    """`template/src/{{package_name}}/{% if c %}x{% endif %}/a.py.jinja` ->
    `src/{{ package_name }}/x/a.py`: the path a service gets, for any answers."""
    path = template_path.removeprefix("template/").removesuffix(".jinja")
    return _VARIABLE.sub(r"{{ \1 }}", _CONDITIONAL.sub(r"\1", path))


def shipped_paths(repo: Path) -> set[str]:
    """Every template file in any commit of the current branch."""
    if git(repo, "rev-parse", "--is-shallow-repository").strip() == "true":
        raise RuntimeError(
            f"{repo} is a shallow clone: its history is needed (git fetch --unshallow)"
        )
    names = git(
        repo, "log", "--no-renames", "--name-only", "--format=", "--", "template/"
    )
    return {rendered_name(name) for name in names.splitlines() if name}


def current_paths(repo: Path) -> set[str]:
    """The template's files now, uncommitted ones included."""
    names = git(
        repo,
        "ls-files",
        "--cached",
        "--others",
        "--exclude-standard",
        "--",
        "template/",
    )
    return {
        rendered_name(name) for name in names.splitlines() if (repo / name).is_file()
    }


def declared_moves(copier_yml: Mapping[str, Any]) -> dict[str, str]:
    """Old path -> new path, from copier.yml's `_migrations` that run MOVE_SCRIPT."""
    moves: dict[str, str] = {}
    for migration in copier_yml.get("_migrations") or []:
        command = migration.get("command") if isinstance(migration, dict) else None
        if not isinstance(command, list):
            continue
        parts = [str(part) for part in command]
        script = next((i for i, p in enumerate(parts) if p.endswith(MOVE_SCRIPT)), None)
        if script is None:
            continue
        paths = [rendered_name(p) for p in parts[script + 1 :] if not p.startswith("-")]
        moves.update(zip(paths[::2], paths[1::2], strict=True))
    return moves


def undeclared_removals(repo: Path, removed: Mapping[str, str]) -> list[str]:
    """Paths once shipped, now gone, neither declared moved nor removed."""
    copier_yml = yaml.safe_load((repo / "copier.yml").read_text())
    gone = shipped_paths(repo) - current_paths(repo)
    return sorted(gone - set(declared_moves(copier_yml)) - set(removed))
