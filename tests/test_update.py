"""`copier update` on generated services: template changes arrive, edits survive,
modules come and go. Runs against a throwaway git copy of this template with its
own tags, so results never depend on the developer's tags or uncommitted state."""

import shutil
import subprocess
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import copier
import pytest

from .rendering import ALL_MODULES, BASE_ANSWERS, PACKAGE, ROOT, python, run

# A template change between the two releases of the throwaway copy: a changed
# line in a shared module and a new file.
CHANGED_FILE = Path("template/src/{{package_name}}/health/router.py")
CHANGE = ("CHECK_TIMEOUT_SECONDS = 2.0", "CHECK_TIMEOUT_SECONDS = 3.0")
NEW_FILE = Path("template/CHANGELOG.md")


def git(cwd: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True
    )
    return result.stdout


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
        "-m",
        message,
    )


@pytest.fixture(scope="module")
def template_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This template at two releases: 1.0.0 (as it is) and 1.1.0 (with CHANGE)."""
    repo = tmp_path_factory.mktemp("template-repo")
    files = git(ROOT, "ls-files", "--cached", "--others", "--exclude-standard")
    for name in files.splitlines():
        source = ROOT / name
        if source.is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, repo / name)
    git(repo, "init", "--quiet")
    commit_all(repo, "release 1.0.0")
    git(repo, "tag", "1.0.0")

    changed = repo / CHANGED_FILE
    old, new = CHANGE
    assert old in changed.read_text(), "CHANGE no longer matches the template"
    changed.write_text(changed.read_text().replace(old, new))
    (repo / NEW_FILE).write_text("# Changelog\n\n- Readiness checks wait 3 s.\n")
    commit_all(repo, "release 1.1.0")
    git(repo, "tag", "1.1.0")
    return repo


Render = Callable[..., Path]


@pytest.fixture
def generate(template_repo: Path, tmp_path: Path) -> Render:
    def make(name: str, ref: str, **answers: Any) -> Path:
        destination = tmp_path / name
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            copier.run_copy(
                str(template_repo),
                destination,
                data={**BASE_ANSWERS, **answers},
                defaults=True,
                unsafe=True,
                quiet=True,
                vcs_ref=ref,
            )
        commit_all(destination, f"generated from {ref}")
        return destination

    return make


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


def test_unmodified_service_updates_to_exactly_a_fresh_render(
    generate: Render,
) -> None:
    project = generate("service", "1.0.0")

    update(project, vcs_ref="1.1.0")

    assert_no_conflicts(project)
    assert_same_tree(project, generate("fresh", "1.1.0"))


def test_team_edits_survive_an_update(generate: Render) -> None:
    project = generate("service", "1.0.0")
    package = project / "src" / PACKAGE
    router = package / "users" / "router.py"
    route = '\n\n@router.get("/count")\nasync def count_users() -> int:\n    return 0\n'
    router.write_text(router.read_text() + route)
    tasks = package / "users" / "tasks.py"
    tasks.write_text(
        tasks.read_text()
        .replace("Welcome", "Welcome")
        .replace(
            'task_name="users.send_welcome_email"',
            'task_name="users.send_welcome_email", retry_on_error=True',
        )
    )
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(
            '"uvicorn[standard]', '"structlog>=24.1",\n    "uvicorn[standard]'
        )
    )
    commit_all(project, "team edits")

    update(project, vcs_ref="1.1.0")

    assert_no_conflicts(project)
    assert route in router.read_text()
    assert "retry_on_error=True" in tasks.read_text()
    assert '"structlog>=24.1"' in pyproject.read_text()
    health = (package / "health" / "router.py").read_text()
    assert CHANGE[1] in health
    assert (project / "CHANGELOG.md").is_file()


@pytest.mark.parametrize("module", ALL_MODULES)
def test_module_added_then_removed_on_an_existing_service(
    generate: Render, module: str
) -> None:
    project = generate("service", "1.1.0", modules=[])

    update(project, vcs_ref=copier.VcsRef.CURRENT, data={"modules": [module]})

    assert_no_conflicts(project)
    assert_same_tree(project, generate("fresh-with", "1.1.0", modules=[module]))
    tests = run(
        python("pytest", "-q", "-p", "no:cacheprovider", f"tests/{module}"),
        cwd=project,
        env={"PYTHONPATH": str(project / "src")},
    )
    assert tests.returncode == 0, tests.stdout[-3000:]

    commit_all(project, f"add {module}")
    update(project, vcs_ref=copier.VcsRef.CURRENT, data={"modules": []})

    assert_no_conflicts(project)
    assert_same_tree(project, generate("fresh-without", "1.1.0", modules=[]))


def test_conflicting_edit_is_reported_and_refused_by_the_service(
    generate: Render,
) -> None:
    project = generate("service", "1.0.0")
    health = project / "src" / PACKAGE / "health" / "router.py"
    # The team changed the very line that release 1.1.0 changes.
    health.write_text(
        health.read_text().replace(CHANGE[0], "CHECK_TIMEOUT_SECONDS = 5.0")
    )
    commit_all(project, "team edits the timeout")

    update(project, vcs_ref="1.1.0")

    content = health.read_text()
    assert "<<<<<<< " in content
    assert "CHECK_TIMEOUT_SECONDS = 5.0" in content
    assert CHANGE[1] in content
    check = run(
        python(
            "pytest", "-q", "-p", "no:cacheprovider", "tests/test_no_merge_leftovers.py"
        ),
        cwd=project,
        env={"PYTHONPATH": str(project / "src")},
    )
    assert check.returncode == 1, check.stdout[-3000:]
    assert "test_no_conflict_markers" in check.stdout
