"""`copier update` exits 0 even when it leaves conflicts: refuse them here."""

from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
SKIPPED = {".git", ".venv", "var", ".mypy_cache", ".ruff_cache", ".pytest_cache"}
MARKERS = ("<<<<<<< ", ">>>>>>> ")


def project_files() -> list[Path]:
    return [
        path
        for path in PROJECT.rglob("*")
        if path.is_file() and not SKIPPED & set(path.relative_to(PROJECT).parts)
    ]


def test_no_rejected_hunks() -> None:
    assert [p for p in project_files() if p.suffix == ".rej"] == []


def test_no_conflict_markers() -> None:
    conflicted = [
        path
        for path in project_files()
        if any(
            line.startswith(MARKERS)
            for line in path.read_text(errors="ignore").splitlines()
        )
    ]
    assert conflicted == []
