"""Every combination renders into a clean, linted, type-checked service."""

import py_compile
import re
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from .rendering import ALL_MODULES, COMBINATIONS, PACKAGE, ROOT, python, run

# A Jinja expression or statement left behind: "{{ name", "{% if", "{#".
UNRENDERED = re.compile(r"\{\{-?\s*[\w(\x27\"]|\{%-?\s*\w|\{#")


def project_files(project: Path) -> list[Path]:
    return sorted(
        p for p in project.rglob("*") if p.is_file() and ".git" not in p.parts
    )


@pytest.mark.parametrize("name", COMBINATIONS)
def test_render_is_complete_and_compiles(rendered: Any, name: str) -> None:
    project: Path = rendered(name)

    files = project_files(project)
    empty = [str(p.relative_to(project)) for p in files if p.stat().st_size == 0]
    unrendered = [
        str(p.relative_to(project))
        for p in files
        if UNRENDERED.search(p.read_text(errors="replace"))
    ]
    assert empty == []
    assert unrendered == []
    for source in project.rglob("*.py"):
        py_compile.compile(str(source), doraise=True)


@pytest.mark.parametrize("name", COMBINATIONS)
def test_render_passes_ruff(rendered: Any, name: str) -> None:
    project: Path = rendered(name)

    lint = run(python("ruff", "check", "--no-cache", "."), cwd=project)
    formatting = run(
        python("ruff", "format", "--check", "--no-cache", "."), cwd=project
    )

    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert formatting.returncode == 0, formatting.stdout + formatting.stderr


@pytest.mark.parametrize("name", COMBINATIONS)
def test_render_passes_mypy_strict(rendered: Any, name: str) -> None:
    project: Path = rendered(name)

    # The cache stays outside the project, whose files other tests compare.
    cache = project.parent / f"{project.name}-mypy-cache"
    env = {"MYPYPATH": str(project / "src"), "MYPY_CACHE_DIR": str(cache)}
    result = run(python("mypy"), cwd=project, env=env)

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("module", ALL_MODULES)
def test_unchosen_module_leaves_no_trace(rendered: Any, module: str) -> None:
    without = rendered("no-modules")
    with_it = rendered(f"only-{module}")

    added = {p.relative_to(with_it) for p in project_files(with_it)} - {
        p.relative_to(without) for p in project_files(without)
    }
    mentions = [
        str(p.relative_to(without))
        for p in project_files(without)
        if module in p.read_text(errors="replace").lower()
        and p.name != ".copier-answers.yml"
    ]
    assert any(module in p.parts for p in added), "the module added no folder"
    assert mentions == []
    assert not (without / "src" / PACKAGE / module).exists()
    assert not (without / "tests" / module).exists()


def test_unchosen_rabbitmq_broker_leaves_no_trace(rendered: Any) -> None:
    without = rendered("all-modules")  # The default broker, Redis.

    mentions = [
        str(p.relative_to(without))
        for p in project_files(without)
        if any(
            word in p.read_text(errors="replace").lower()
            for word in ("rabbitmq", "amqp", "aio_pika", "aio-pika")
        )
        and p.name != ".copier-answers.yml"
    ]
    assert mentions == []
    assert (
        rendered("rabbitmq") / "src" / PACKAGE / "worker/backends/rabbitmq/broker.py"
    ).is_file()


@pytest.mark.parametrize("name", ["defaults", "rabbitmq"])
def test_generated_workflow_passes_actionlint(rendered: Any, name: str) -> None:
    project: Path = rendered(name)
    actionlint = Path(sys.executable).parent / "actionlint"

    result = run([str(actionlint), "-color=false"], cwd=project)

    assert result.returncode == 0, result.stdout + result.stderr
    assert (project / ".github" / "workflows" / "ci.yml").is_file()


@pytest.mark.parametrize("name", ["defaults", "python-3.13-rabbitmq-postgresql"])
def test_generated_workflow_passes_zizmor_and_bounds_every_job(
    rendered: Any, name: str
) -> None:
    """Actions pinned by commit, no persisted credentials, no template
    injection (zizmor's offline audits), and a timeout on every job."""
    workflow = rendered(name) / ".github" / "workflows" / "ci.yml"
    zizmor = Path(sys.executable).parent / "zizmor"

    result = run([str(zizmor), "--offline", "--no-progress", str(workflow)], cwd=ROOT)

    assert result.returncode == 0, result.stdout + result.stderr
    jobs = yaml.safe_load(workflow.read_text())["jobs"]
    assert {name: job.get("timeout-minutes") for name, job in jobs.items()} == {
        "test": 30,
        "template-update": 10,
    }


@pytest.mark.parametrize("name", sorted(COMBINATIONS))
def test_readme_layout_lists_every_folder_and_module(rendered: Any, name: str) -> None:
    project = rendered(name)
    package = project / "src" / PACKAGE
    readme = (project / "README.md").read_text()
    block = readme.split(f"\n```\nsrc/{PACKAGE}/\n", 1)[1].split("\n```", 1)[0]
    listed = set(re.findall(r"^  (\w+/|\w+\.py) ", block, re.MULTILINE))
    present = {
        f"{path.name}/" if path.is_dir() else path.name
        for path in package.iterdir()
        if path.name != "__pycache__" and not path.name.startswith("__")
    }

    assert listed == present
