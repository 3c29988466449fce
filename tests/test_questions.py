"""Every validator refuses bad input with a message that says why."""

import ast
from pathlib import Path
from typing import Any

import pytest
import yaml

from .rendering import COPIER_YML, render


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"project_name": "   "}, "project name cannot be empty"),
        ({"project_slug": "Bad Slug"}, "lowercase letters, digits and single dashes"),
        ({"project_slug": "9lives"}, "must start with a letter"),
        ({"package_name": "my-pkg"}, "valid lowercase Python identifier"),
        ({"package_name": "1st"}, "valid lowercase Python identifier"),
        ({"package_name": "class"}, "is a Python keyword"),
        ({"package_name": "taskiq"}, "would shadow the module or dependency"),
        ({"package_name": "fastapi"}, "would shadow the module or dependency"),
        ({"package_name": "redis"}, "would shadow the module or dependency"),
        ({"package_name": "aio_pika"}, "would shadow the module or dependency"),
        ({"package_name": "tests"}, "would shadow the module or dependency"),
        ({"package_name": "app"}, "would shadow the module or dependency"),
        ({"project_name": "App", "package_name": "app"}, "would shadow the module"),
        (
            {"project_name": "2fast", "project_slug": "2fast"},
            "must start with a letter",
        ),
        ({"package_name": "email"}, "would shadow the module or dependency"),
        ({"author_email": "nobody"}, "is not an e-mail address"),
        ({"python_version": "3.9"}, "Invalid choice for 'python_version'"),
        ({"modules": ["nonexistent"]}, "Invalid choice for 'modules'"),
        ({"broker": "kafka"}, "Invalid choice for 'broker'"),
        ({"database": "oracle"}, "Invalid choice for 'database'"),
    ],
)
def test_bad_answers_are_refused_with_a_reason(
    tmp_path: Path, answers: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        render(tmp_path / "out", answers)
    assert not (tmp_path / "out" / "pyproject.toml").exists()


def test_derived_names_follow_the_project_name(tmp_path: Path) -> None:
    project = render(tmp_path / "out", {"project_name": "Billing API"})

    answers = (project / ".copier-answers.yml").read_text()
    assert "project_slug: billing-api" in answers
    assert "package_name: billing_api" in answers
    assert (project / "src" / "billing_api" / "app.py").is_file()
    assert 'name = "billing-api"' in (project / "pyproject.toml").read_text()


@pytest.mark.parametrize(
    ("name", "slug", "package"),
    [
        ("Test", "test", "test_service"),
        ("App", "app", "app_service"),
        ("Café Orders", "cafe-orders", "cafe_orders"),
        ("Ünïcödé Straße", "unicode-strasse", "unicode_strasse"),
        ("2fast", "service-2fast", "service_2fast"),
        ("???", "service", "service"),
        ("Заказы", "service", "service"),
        ("class", "class", "class_service"),
        ("  My__Orders -- API  ", "my-orders-api", "my_orders_api"),
        ('Ops "Night" \\ Queue', "ops-night-queue", "ops_night_queue"),
    ],
)
def test_any_project_name_derives_valid_names(
    tmp_path: Path, name: str, slug: str, package: str
) -> None:
    """Validators are for what the user typed: a derived default always passes."""
    project = render(tmp_path / "out", {"project_name": name})

    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert (answers["project_name"], answers["project_slug"]) == (name, slug)
    assert answers["package_name"] == package
    assert "reserved_package_names" not in answers
    app = project / "src" / package / "app.py"
    titles = [
        node.value.value
        for node in ast.walk(ast.parse(app.read_text()))
        if isinstance(node, ast.keyword)
        and node.arg == "title"
        and isinstance(node.value, ast.Constant)
    ]
    assert titles == [name]
    assert f'name = "{slug}"' in (project / "pyproject.toml").read_text()


def test_every_question_has_help() -> None:
    questions = {k: v for k, v in COPIER_YML.items() if not k.startswith("_")}

    assert questions
    assert [name for name, spec in questions.items() if not spec.get("help")] == []
