"""Generating and updating services from a throwaway git copy of this template."""

import shutil
import warnings
from pathlib import Path
from typing import Any

import copier

from .rendering import BASE_ANSWERS, ROOT
from .template_history import git


def commit_all(cwd: Path, message: str) -> None:
    git(cwd, "add", "-A")
    git(
        cwd,
        "-c",
        "user.name=Test",
        "-c",
        "user.email=test@example.com",
        "commit",
        "--quiet",
        "--no-verify",
        "--allow-empty",
        "-m",
        message,
    )


def copy_working_tree(repo: Path) -> None:
    """Make ``repo``'s files those of this checkout, uncommitted changes included."""
    for name in git(repo, "ls-files").splitlines():
        (repo / name).unlink(missing_ok=True)
    files = git(ROOT, "ls-files", "--cached", "--others", "--exclude-standard")
    for name in files.splitlines():
        source = ROOT / name
        if source.is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, repo / name)


def generate(template: Path, destination: Path, ref: str, **answers: Any) -> Path:
    """`copier copy` of ``template`` at ``ref``, committed as a team would."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        copier.run_copy(
            str(template),
            destination,
            data={**BASE_ANSWERS, **answers},
            defaults=True,
            unsafe=True,
            quiet=True,
            vcs_ref=ref,
        )
    commit_all(destination, f"generated from {ref}")
    return destination


def update(project: Path, **kwargs: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        copier.run_update(
            project, defaults=True, unsafe=True, quiet=True, overwrite=True, **kwargs
        )


def tree(project: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(project)): p.read_bytes()
        for p in sorted(project.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(project).parts
    }


def assert_no_conflicts(project: Path) -> None:
    """Copier exits 0 even when it leaves conflicts: look for them."""
    files = tree(project)
    assert [name for name in files if name.endswith(".rej")] == []
    markers = [
        name
        for name, content in files.items()
        if b"\n<<<<<<< " in content or b"\n>>>>>>> " in content
    ]
    assert markers == []
    assert git(project, "diff", "--name-only", "--diff-filter=U") == ""


def assert_same_tree(actual: Path, expected: Path) -> None:
    actual_files, expected_files = tree(actual), tree(expected)
    assert sorted(actual_files) == sorted(expected_files)
    different = [n for n in actual_files if actual_files[n] != expected_files[n]]
    assert different == []
