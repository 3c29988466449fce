"""Services generated from earlier versions of this template, as they really
were, update to this one: from the first commit, and from the previous version
(the latest release tag or, while there is none, the commit before the latest
template change). Unlike test_update.py, whose releases are variations of the
current files, this catches what changed between real versions: a question
renamed (old answers silently dropped), a removal copier.yml does not declare,
a hook that writes files."""

from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.version import InvalidVersion, Version

from .rendering import ALL_MODULES, ROOT
from .template_history import git
from .updating import (
    assert_no_conflicts,
    assert_same_tree,
    commit_all,
    copy_working_tree,
    generate,
    update,
)

# What a template version consists of, for Copier.
TEMPLATE_INPUTS = ("template", "copier.yml", "hooks")

# Every answer away from its default, so that one whose meaning changed shows.
NON_DEFAULT = {
    "modules": ALL_MODULES,
    "broker": "rabbitmq",
    "database": "postgresql",
    "python_version": "3.13",
}


def previous_version(repo: Path) -> str:
    """The newest release tag before HEAD; before the first release, the commit
    before the latest change to what Copier renders or runs."""
    releases = sorted(
        (Version(tag), tag)
        for tag in git(repo, "tag", "--merged", "HEAD~1").split()
        if is_version(tag)
    )
    if releases:
        return releases[-1][1]
    # First parents only: a merged branch counts as one change of main.
    log = ("log", "-1", "--first-parent", "--format=%H", "--", *TEMPLATE_INPUTS)
    return git(repo, "rev-parse", f"{git(repo, *log).strip()}~1").strip()


def first_version(repo: Path) -> str:
    """The template's first commit: the oldest service anyone may have."""
    return git(repo, "rev-list", "--max-parents=0", "HEAD").split()[0]


def is_version(tag: str) -> bool:
    try:
        Version(tag)
    except InvalidVersion:
        return False
    return True


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A clone of this repository with this checkout committed on top, and the
    versions before it to update from."""
    repo = tmp_path_factory.mktemp("history") / "template"
    git(repo.parent, "clone", "--quiet", str(ROOT), str(repo))
    # Before this checkout's commit: the version before the one under test.
    versions = {"previous": previous_version(repo), "first": first_version(repo)}
    copy_working_tree(repo)
    commit_all(repo, "this checkout")
    return repo, versions


def offered(repo: Path, version: str, answers: dict[str, Any]) -> dict[str, Any]:
    """``answers`` that ``version`` already asked about and accepts."""
    questions = yaml.safe_load(git(repo, "show", f"{version}:copier.yml"))
    result: dict[str, Any] = {}
    for name, value in answers.items():
        if name not in questions:
            continue
        choices = questions[name].get("choices", {})
        accepted = set(choices.values() if isinstance(choices, dict) else choices)
        if isinstance(value, list):
            result[name] = [item for item in value if item in accepted]
        elif value in accepted:
            result[name] = value
    return result


@pytest.mark.parametrize("answers", [{}, NON_DEFAULT], ids=["defaults", "non-default"])
@pytest.mark.parametrize("version", ["previous", "first"])
def test_service_from_an_earlier_version_updates_to_exactly_this_one(
    history: tuple[Path, dict[str, str]],
    tmp_path: Path,
    version: str,
    answers: dict[str, Any],
) -> None:
    repo, versions = history
    previous = versions[version]
    answers = offered(repo, previous, answers)
    project = generate(repo, tmp_path / "service", previous, **answers)

    update(project, vcs_ref="HEAD")

    assert_no_conflicts(project)
    # Copier keeps only answers to questions it still asks: none may be lost.
    kept = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert {name: kept.get(name) for name in answers} == answers
    assert_same_tree(project, generate(repo, tmp_path / "fresh", "HEAD", **answers))
