"""Generated services pass their own test suites, integration tests included."""

from pathlib import Path
from typing import Any

import pytest

from .rendering import COMBINATIONS, COPIER_YML, python, run

pytestmark = pytest.mark.bake


@pytest.mark.parametrize(
    ("name", "selection"),
    [
        # Also the no-modules bake: no module is chosen by default (see below).
        ("defaults", []),
        ("all-modules", []),
        # Only what RabbitMQ changes: the rest is all-modules' suite.
        ("rabbitmq", ["-m", "rabbitmq"]),
        # Every test that touches the database, worker processes included, on
        # the local PostgreSQL server (a fresh database per test, see the
        # render's tests/postgres.py); the rest is all-modules' suite.
        ("postgresql", ["-m", "database"]),
    ],
)
def test_generated_test_suite_passes(
    rendered: Any, name: str, selection: list[str]
) -> None:
    project: Path = rendered(name)

    result = run(
        python("pytest", "-q", "-p", "no:cacheprovider", *selection),
        cwd=project,
        # Tests backed by Redis, RabbitMQ and PostgreSQL must run here, not skip.
        env={"PYTHONPATH": str(project / "src"), "APP_TEST_REQUIRE_SERVICES": "1"},
        # All modules take about 5 minutes alone; room for a machine shared
        # with the other bakes.
        timeout=1500,
    )

    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert " passed" in result.stdout
    assert "skipped" not in result.stdout, result.stdout[-3000:]


def test_defaults_bake_is_the_no_modules_bake() -> None:
    """A service generated with the defaults has no module: baking a separate
    no-modules render would run the same suite twice."""
    assert COPIER_YML["modules"]["default"] == []
    assert "modules" not in COMBINATIONS["defaults"]
