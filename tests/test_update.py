"""`copier update` on generated services: template changes arrive, edits survive,
modules come and go. Runs against a throwaway git copy of this template with its
own tags, so results never depend on the developer's tags or uncommitted state."""

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import copier
import pytest
import yaml

from . import updating
from .rendering import ALL_MODULES, PACKAGE, python, run
from .template_history import git, undeclared_removals
from .test_migrations import REMOVED
from .updating import (
    assert_no_conflicts,
    assert_same_tree,
    commit_all,
    copy_working_tree,
    update,
)

# A template change between the two releases of the throwaway copy: a changed
# line in a shared module and a new file.
CHANGED_FILE = Path("template/src/{{package_name}}/health/router.py")
CHANGE = ("CHECK_TIMEOUT_SECONDS = 2.0", "CHECK_TIMEOUT_SECONDS = 3.0")
NEW_FILE = Path("template/CHANGELOG.md")

# Release 1.2.0 moves a module (its importers follow) and changes a line of it,
# with the `_migrations` entry copier.yml documents for a move.
PACKAGE_DIR = Path("template/src/{{package_name}}")
MOVED = ("users/service.py", "users/accounts.py")
MOVED_CHANGE = ("your account is ready.", "your account is ready to use.")
IMPORTERS = {
    PACKAGE_DIR / "users/router.py": "from . import service",
    PACKAGE_DIR / "users/tasks.py": "from . import service",
    PACKAGE_DIR / "users/dependencies.py": "from . import service",
    Path("template/tests/test_users.py.jinja"): "users import service",
}
MOVE_MIGRATION = """_migrations:
  - version: "1.2.0"
    command:
      - "{{ _copier_python }}"
      - "{{ _copier_conf.src_path }}/hooks/move_files.py"
      - "--template={{ _copier_conf.src_path }}"
      - "src/{{ package_name }}/users/service.py"
      - "src/{{ package_name }}/users/accounts.py"
"""


@pytest.fixture(scope="module")
def template_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This template at three releases: 1.0.0 (as it is), 1.1.0 (with CHANGE) and
    1.2.0 (with MOVED)."""
    repo = tmp_path_factory.mktemp("template-repo")
    git(repo, "init", "--quiet")
    copy_working_tree(repo)
    commit_all(repo, "release 1.0.0")
    git(repo, "tag", "1.0.0")

    changed = repo / CHANGED_FILE
    old, new = CHANGE
    assert old in changed.read_text(), "CHANGE no longer matches the template"
    changed.write_text(changed.read_text().replace(old, new))
    (repo / NEW_FILE).write_text("# Changelog\n\n- Readiness checks wait 3 s.\n")
    commit_all(repo, "release 1.1.0")
    git(repo, "tag", "1.1.0")

    source, target = (PACKAGE_DIR / path for path in MOVED)
    git(repo, "mv", str(source), str(target))
    moved = repo / target
    assert MOVED_CHANGE[0] in moved.read_text(), "MOVED_CHANGE no longer matches"
    moved.write_text(moved.read_text().replace(*MOVED_CHANGE))
    for importer, line in IMPORTERS.items():
        text = (repo / importer).read_text()
        assert line in text, f"{importer} no longer imports the moved module"
        renamed = line.replace("import service", "import accounts as service")
        (repo / importer).write_text(text.replace(line, renamed))
    copier_yml = repo / "copier.yml"
    assert "\n_migrations: []\n" in copier_yml.read_text()
    copier_yml.write_text(
        copier_yml.read_text().replace("\n_migrations: []\n", "\n" + MOVE_MIGRATION)
    )
    commit_all(repo, "release 1.2.0")
    git(repo, "tag", "1.2.0")
    return repo


Render = Callable[..., Path]


@pytest.fixture
def generate(template_repo: Path, tmp_path: Path) -> Render:
    def make(name: str, ref: str, **answers: Any) -> Path:
        return updating.generate(template_repo, tmp_path / name, ref, **answers)

    return make


@pytest.mark.parametrize(
    ("old", "new"),
    [("1.0.0", "1.1.0"), ("1.1.0", "1.2.0")],
    ids=["changed-file", "moved-file"],
)
def test_unmodified_service_updates_to_exactly_a_fresh_render(
    generate: Render, old: str, new: str
) -> None:
    project = generate("service", old)

    update(project, vcs_ref=new)

    assert_no_conflicts(project)
    assert_same_tree(project, generate("fresh", new))


def test_derived_names_are_kept_by_an_update(generate: Render) -> None:
    """Slug and package derived from a name that is not one themselves."""
    project = generate("service", "1.0.0", project_name="Café App")
    assert (project / "src" / "cafe_app").is_dir()

    update(project, vcs_ref="1.1.0")

    assert_no_conflicts(project)
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert (answers["project_slug"], answers["package_name"]) == (
        "cafe-app",
        "cafe_app",
    )
    assert "reserved_package_names" not in answers
    assert_same_tree(project, generate("fresh", "1.1.0", project_name="Café App"))


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


MOVED_FROM, MOVED_TO = (Path("src", PACKAGE, path) for path in MOVED)


def test_a_move_is_declared_in_the_release_that_makes_it(template_repo: Path) -> None:
    assert undeclared_removals(template_repo, REMOVED) == []


def test_team_edits_follow_a_moved_file(generate: Render) -> None:
    project = generate("service", "1.1.0")
    edit = (
        "\n\nasync def count_users(session: AsyncSession) -> int:\n"
        "    return await session.scalar(select(func.count(User.id))) or 0\n"
    )
    moved = project / MOVED_FROM
    moved.write_text(
        moved.read_text().replace(
            "from sqlalchemy import delete, select",
            "from sqlalchemy import delete, func, select",
        )
        + edit
    )
    commit_all(project, "team counts users")

    update(project, vcs_ref="1.2.0")

    assert_no_conflicts(project)
    assert not (project / MOVED_FROM).exists()
    content = (project / MOVED_TO).read_text()
    assert edit in content
    assert "from sqlalchemy import delete, func, select" in content
    assert MOVED_CHANGE[1] in content
    tests = run(
        python("pytest", "-q", "-p", "no:cacheprovider", "tests/test_users.py"),
        cwd=project,
        env={"PYTHONPATH": str(project / "src")},
    )
    assert tests.returncode == 0, tests.stdout[-3000:]


def test_a_moved_file_the_team_deleted_stays_deleted(generate: Render) -> None:
    project = generate("service", "1.1.0")
    git(project, "rm", "--quiet", str(MOVED_FROM))
    commit_all(project, "team deletes the module")

    update(project, vcs_ref="1.2.0")

    assert_no_conflicts(project)
    assert not (project / MOVED_FROM).exists()
    assert not (project / MOVED_TO).exists()


def test_conflicting_edit_of_a_moved_file_is_marked(generate: Render) -> None:
    project = generate("service", "1.1.0")
    moved = project / MOVED_FROM
    # The team changed the very line that release 1.2.0 changes.
    moved.write_text(
        moved.read_text().replace(MOVED_CHANGE[0], "your account is live.")
    )
    commit_all(project, "team rewords the welcome e-mail")

    update(project, vcs_ref="1.2.0")

    content = (project / MOVED_TO).read_text()
    assert "<<<<<<< before updating" in content
    assert "your account is live." in content
    assert MOVED_CHANGE[1] in content
    unmerged = git(project, "diff", "--name-only", "--diff-filter=U").split()
    assert unmerged == [str(MOVED_TO)]


def template_update_step(project: Path) -> str:
    """The shell of the generated workflow's template-update step."""
    workflow = yaml.safe_load((project / ".github/workflows/ci.yml").read_text())
    steps = [step for job in workflow["jobs"].values() for step in job["steps"]]
    (step,) = [s for s in steps if "copier check-update" in s.get("run", "")]
    script: str = step["run"]
    # This environment's Copier instead of one uvx would fetch.
    return script.replace("uvx copier", f"{sys.executable} -m copier")


@pytest.mark.parametrize(
    ("ref", "notice"), [("1.1.0", True), ("1.2.0", False)], ids=["behind", "latest"]
)
def test_service_ci_reports_a_newer_template_release_without_failing(
    generate: Render, ref: str, notice: bool
) -> None:
    project = generate("service", ref)

    step = run(
        ["bash", "-eo", "pipefail", "-c", template_update_step(project)], project
    )

    assert step.returncode == 0, step.stdout + step.stderr
    assert ("::notice title=Template update::" in step.stdout) is notice
    assert "::warning" not in step.stdout


def test_service_in_a_monorepo_stays_in_it_and_updates_there(
    template_repo: Path, tmp_path: Path
) -> None:
    """Teams keep services in a larger repository: Copier must neither start a
    repository of its own inside it nor lose track of paths on update."""
    monorepo = tmp_path / "monorepo"
    monorepo.mkdir()
    git(monorepo, "init", "--quiet")
    (monorepo / "README.md").write_text("# Our services\n")
    commit_all(monorepo, "monorepo")
    project = updating.generate(template_repo, monorepo / "services/orders", "1.1.0")
    moved = project / MOVED_FROM
    moved.write_text(
        moved.read_text().replace(MOVED_CHANGE[0], "your account is live.")
    )
    commit_all(project, "team rewords the welcome e-mail")

    update(project, vcs_ref="1.2.0")

    assert not (project / ".git").exists()
    assert "services/orders/pyproject.toml" in git(monorepo, "ls-files").split()
    content = (project / MOVED_TO).read_text()
    assert "your account is live." in content
    assert MOVED_CHANGE[1] in content
    unmerged = git(monorepo, "diff", "--name-only", "--diff-filter=U").split()
    assert unmerged == [f"services/orders/{MOVED_TO}"]
