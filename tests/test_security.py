"""What a generated service must never hold or publish: secrets in its answers
file, or a ``.env`` committed by accident."""

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from .rendering import COPIER_YML

QUESTIONS = {k: v for k, v in COPIER_YML.items() if not k.startswith("_")}
SECRET_NAME = re.compile(r"secret|password|passwd|token|api_?key|credential", re.I)


def test_any_question_asking_for_a_secret_is_never_stored() -> None:
    # Copier leaves `secret: true` answers out of .copier-answers.yml.
    secret_like = [name for name in QUESTIONS if SECRET_NAME.search(name)]

    assert [n for n in secret_like if not QUESTIONS[n].get("secret")] == []
    for name in secret_like:
        assert "default" in QUESTIONS[name], f"{name}: a secret needs a default"


@pytest.mark.parametrize("name", ["defaults", "all-modules"])
def test_answers_file_holds_only_non_secret_answers(rendered: Any, name: str) -> None:
    project: Path = rendered(name)

    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    stored = {k for k in answers if not k.startswith("_")}
    secrets = {n for n, spec in QUESTIONS.items() if spec.get("secret")}
    assert stored & secrets == set()
    assert [k for k in stored if SECRET_NAME.search(k)] == []


def test_env_file_is_ignored_and_its_example_is_not(
    rendered: Any, tmp_path: Path
) -> None:
    project: Path = rendered("defaults")
    # The service's ignore rules, in a repository of their own.
    (tmp_path / ".gitignore").write_text((project / ".gitignore").read_text())
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)

    def ignored(path: str) -> bool:
        result = subprocess.run(
            ["git", "check-ignore", "--no-index", "-q", path],
            cwd=tmp_path,
            check=False,
        )
        return result.returncode == 0

    assert ignored(".env")
    assert ignored("var/app.db")
    assert not ignored(".env.example")
