"""A rendered path never disappears by accident: a move is declared in copier.yml
`_migrations` (so `copier update` carries the team's edits to the new path) or
the removal is listed here with its reason. How the move carries the edits is
tested on a real update in test_update.py."""

from pathlib import Path

import pytest

from .rendering import COPIER_YML, ROOT
from .template_history import (
    current_paths,
    declared_moves,
    git,
    shipped_paths,
    undeclared_removals,
)
from .updating import commit_all

# Removed on purpose: `copier update` deletes them in services that have them.
_SPLIT = "split into worker/backends/<name>/, one package per backend"
_WORKER = "src/{{ package_name }}/worker"
REMOVED = {
    "tests/streaming/conftest.py": (
        "its live_server fixture moved to tests/conftest.py for every module"
    ),
    "src/{{ package_name }}/websocket/tokens.py": (
        "sockets take the service's access tokens (auth/, PyJWT): no hand-written "
        "JWT code and no secret of the module's own"
    ),
    "tests/websocket/test_secret.py": (
        "APP_WS_TOKEN_SECRET is gone; auth/'s signing key is tested in test_auth.py"
    ),
    **{
        f"{_WORKER}/{name}.py": _SPLIT
        for name in (
            "redis_broker",
            "redis_acks",
            "redis_events",
            "redis_results",
            "sqlite_broker",
            "sqlite_db",
            "sqlite_events",
            "sqlite_results",
            "rabbitmq_broker",
        )
    },
    "tests/worker/test_sqlite_broker.py": (
        "merged with the Redis broker's twin tests into tests/worker/test_brokers.py"
    ),
}


def test_no_shipped_path_vanishes_without_a_move_or_a_reason() -> None:
    assert undeclared_removals(ROOT, REMOVED) == []


def test_declared_moves_and_removals_are_current() -> None:
    """A declaration whose old path is back, or whose new path is gone, is stale."""
    shipped, current = shipped_paths(ROOT), current_paths(ROOT)
    moves = declared_moves(COPIER_YML)
    assert sorted(set(REMOVED) - (shipped - current)) == []
    assert sorted(old for old in moves if old in current) == []
    assert sorted(new for new in moves.values() if new not in current) == []


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A template repository whose one release shipped `src/{{ package_name }}/a.py`."""
    (tmp_path / "template/src/{{package_name}}").mkdir(parents=True)
    (tmp_path / "template/src/{{package_name}}/a.py.jinja").write_text("A = 1\n")
    (tmp_path / "copier.yml").write_text("_migrations: []\n")
    git(tmp_path, "init", "--quiet")
    commit_all(tmp_path, "release")
    return tmp_path


def test_a_move_without_a_migration_is_caught(repo: Path) -> None:
    package = repo / "template/src/{{package_name}}"
    (package / "a.py.jinja").rename(package / "b.py")
    commit_all(repo, "move a to b")

    assert undeclared_removals(repo, {}) == ["src/{{ package_name }}/a.py"]

    (repo / "copier.yml").write_text(
        "_migrations:\n"
        "  - version: '2.0.0'\n"
        "    command: ['{{ _copier_python }}', 'hooks/move_files.py',\n"
        "              '--template=.', 'src/{{package_name}}/a.py',\n"
        "              'src/{{ package_name }}/b.py']\n"
    )
    assert undeclared_removals(repo, {}) == []
