"""Carries a team's edits to a file that a template release moved.

Run by a `_migrations` entry of copier.yml, after the update, in the service:

    move_files.py --template <new template checkout> OLD NEW [OLD NEW ...]

Copier's update knows nothing of moves: it deletes OLD, edits and all, because
the new release no longer renders it, and writes NEW fresh. This step puts the
edits back: it 3-way merges the team's OLD (from the service's last commit)
with the previous release's render of OLD (the base) into NEW, as `git merge`
does for a renamed file. A change that truly conflicts is left marked and
recorded as unmerged, the way Copier leaves its own conflicts. A team that had
deleted OLD keeps the file deleted.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

import copier
import yaml

ANSWERS_FILE = ".copier-answers.yml"
# The labels Copier gives its own conflict markers.
LABELS = ("before updating", "last update", "after updating")


def git(*args: str, stdin: str | None = None) -> str:
    return subprocess.run(
        ["git", *args], input=stdin, capture_output=True, text=True, check=True
    ).stdout


def committed(path: str) -> bytes | None:
    """The file as the service's last commit holds it (``None``: not there)."""
    result = subprocess.run(
        ["git", "show", f"HEAD:./{path}"], capture_output=True, check=False
    )
    return result.stdout if result.returncode == 0 else None


def render_previous_release(template: str, version: str, destination: Path) -> None:
    """The previous release with the service's previous answers: the merge base."""
    answers: dict[str, Any] = yaml.safe_load(committed(ANSWERS_FILE) or b"{}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        copier.run_copy(
            template,
            destination,
            data={k: v for k, v in answers.items() if not k.startswith("_")},
            vcs_ref=version,
            defaults=True,
            overwrite=True,
            quiet=True,
            skip_tasks=True,
            unsafe=True,
        )


def merge(team: bytes, base: bytes, release: Path) -> bool:
    """Merge the team's changes into ``release`` in place; ``True`` on conflict."""
    with tempfile.TemporaryDirectory() as scratch:
        ours, common = Path(scratch, "team"), Path(scratch, "base")
        ours.write_bytes(team)
        common.write_bytes(base)
        labels = [arg for label in LABELS for arg in ("-L", label)]
        result = subprocess.run(
            ["git", "merge-file", *labels, "--", str(ours), str(common), str(release)],
            capture_output=True,
            check=False,
        )
        # The exit status is the number of conflicts, or negative on error.
        if not 0 <= result.returncode < 128:
            raise RuntimeError(result.stderr.decode(errors="replace"))
        release.write_bytes(ours.read_bytes())
        return result.returncode > 0


def record_unmerged(path: str, team: bytes, base: bytes, release: bytes) -> None:
    """Mark ``path`` unmerged in the index, so `git status` lists it as a conflict."""
    prefix = git("rev-parse", "--show-prefix").strip()
    entries = [f"0 {'0' * 40}\t{prefix}{path}"]
    for stage, content in ((1, base), (2, team), (3, release)):
        sha = subprocess.run(
            ["git", "hash-object", "-w", "--stdin"],
            input=content,
            capture_output=True,
            check=True,
        ).stdout.decode()
        entries.append(f"100644 {sha.strip()} {stage}\t{prefix}{path}")
    git("update-index", "--index-info", stdin="\n".join(entries) + "\n")


def carry(old: str, new: str, previous: Path) -> str | None:
    """Carry the team's edits of ``old`` into ``new``; a line for the user."""
    team, base_file, target = committed(old), previous / old, Path(new)
    if not base_file.is_file():
        return None  # The previous release did not render it for these answers.
    base = base_file.read_bytes()
    if team is None:
        target.unlink(missing_ok=True)
        return f"{old} had been deleted: {new} is not created"
    if team == base:
        return None  # Unedited: the fresh render of the new release is right.
    if not target.is_file():
        # The new release does not render it with these answers: keep the edits.
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(team)
        return f"{old} moved to {new} with your edits"
    release = target.read_bytes()
    if merge(team, base, target):
        record_unmerged(new, team, base, release)
        return f"{old} moved to {new}: CONFLICT with your edits, resolve it there"
    return f"{old} moved to {new} with your edits"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--template", required=True, help="the new release's files")
    parser.add_argument("paths", nargs="+", metavar="OLD NEW")
    args = parser.parse_args()
    if len(args.paths) % 2:
        parser.error("paths come in pairs: OLD NEW")
    moves = list(zip(args.paths[::2], args.paths[1::2], strict=True))
    if all(committed(old) is None and not Path(new).exists() for old, new in moves):
        return  # This service has neither path (a module it does not have).
    # Copier gives migrations the version the service is updated from.
    version = os.environ["VERSION_FROM"]
    with tempfile.TemporaryDirectory() as previous:
        render_previous_release(args.template, version, Path(previous))
        for old, new in moves:
            message = carry(old, new, Path(previous))
            if message:
                print(message, file=sys.stderr)


if __name__ == "__main__":
    main()
