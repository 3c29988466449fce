"""Deployment files of generated services: the Dockerfile (hadolint, what the
image holds), compose.yaml (the Compose specification's schema, the start-up
order), the CI workflow's PostgreSQL service, and the locked install the image
build runs. No Docker engine runs here: these checks are static or replay the
build's uv commands."""

import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
import yaml

from .rendering import COMBINATIONS, PACKAGE, run

SCHEMA = json.loads(
    (Path(__file__).parent / "schemas" / "compose-spec.json").read_text()
)
HADOLINT = Path(sys.executable).parent / "hadolint"
ACTIONLINT = Path(sys.executable).parent / "actionlint"


def dockerfile_stages(project: Path) -> list[list[tuple[str, str]]]:
    """(instruction, arguments) per build stage, continuation lines joined."""
    text = (project / "Dockerfile").read_text().replace("\\\n", " ")
    stages: list[list[tuple[str, str]]] = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        instruction, _, arguments = line.strip().partition(" ")
        if instruction == "FROM":
            stages.append([])
        stages[-1].append((instruction, " ".join(arguments.split())))
    return stages


def healthcheck_command(project: Path) -> list[str]:
    final = dockerfile_stages(project)[-1]
    (check,) = [args for instruction, args in final if instruction == "HEALTHCHECK"]
    command: list[str] = json.loads(check[check.index("CMD") + 3 :])
    return command


def compose(project: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((project / "compose.yaml").read_text())
    return data


def settings_fields(project: Path) -> set[str]:
    fields: set[str] = set()
    for settings in (project / "src").rglob("settings.py"):
        fields |= set(re.findall(r"^    (\w+): ", settings.read_text(), re.M))
    return fields


@pytest.mark.parametrize("name", COMBINATIONS)
def test_dockerfile_passes_hadolint(rendered: Any, name: str) -> None:
    project: Path = rendered(name)

    result = run([str(HADOLINT), "--no-color", "Dockerfile"], cwd=project)

    assert result.returncode == 0, result.stdout + result.stderr


def test_image_installs_locked_runtime_dependencies_as_a_non_root_user(
    rendered: Any,
) -> None:
    project: Path = rendered("defaults")
    stages = dockerfile_stages(project)
    build, final = stages[-2], stages[-1]
    commands = [args for instruction, args in build if instruction == "RUN"]

    assert len(stages) >= 2, "a multi-stage build keeps uv out of the image"
    assert any("uv sync --locked --no-dev" in command for command in commands)
    assert not any(
        "uv" in args.split() for instruction, args in final if instruction == "RUN"
    )
    (user,) = [args for instruction, args in final if instruction == "USER"]
    assert user.split(":")[0] not in ("root", "0")
    (command,) = [args for instruction, args in final if instruction == "CMD"]
    assert json.loads(command) == [PACKAGE, "api"]
    ignored = (project / ".dockerignore").read_text().split()
    assert {".venv/", ".env", "var/", ".git/"} <= set(ignored)


def test_image_health_check_asks_the_api_with_python(
    rendered: Any, tmp_path: Path
) -> None:
    """Runs the image's HEALTHCHECK command against the real API process."""
    project: Path = rendered("defaults")
    command = healthcheck_command(project)
    assert command[0] == "python", "curl is not in the image, Python is"
    assert "/health/live" in command[-1]
    port = free_port()
    probe = [sys.executable, *command[1:-1], command[-1].replace(":8000/", f":{port}/")]
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("APP_")},
        "PYTHONPATH": str(project / "src"),
        "APP_API_PORT": str(port),
        "APP_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'app.db'}",
        "APP_BROKER_URL": f"sqlite:///{tmp_path / 'broker.db'}",
    }
    assert subprocess.run(probe, env=env, check=False, timeout=30).returncode != 0
    api = subprocess.Popen(
        [sys.executable, "-m", PACKAGE, "api"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, api)
        healthy = subprocess.run(probe, env=env, check=False, timeout=30)
    finally:
        api.terminate()
        api.wait(timeout=30)
    assert healthy.returncode == 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "the API exited"
        try:
            httpx.get(f"http://127.0.0.1:{port}/health/live", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("the API never answered")


@pytest.mark.parametrize("name", COMBINATIONS)
def test_compose_file_follows_the_compose_specification(
    rendered: Any, name: str
) -> None:
    project: Path = rendered(name)

    # The schema names draft 7 in a form jsonschema does not recognise.
    validator = jsonschema.Draft7Validator(SCHEMA)
    validator.validate(compose(project))
    # The schema is strict enough to notice a mistake.
    broken = compose(project)
    broken["services"]["api"]["depends_on"]["migrate"]["condition"] = "completed"
    assert not validator.is_valid(broken)


@pytest.mark.parametrize("name", ["defaults", "postgresql", "rabbitmq"])
def test_compose_starts_api_and_worker_after_migrations_and_healthy_stores(
    rendered: Any, name: str
) -> None:
    project: Path = rendered(name)
    services = compose(project)["services"]
    answers = COMBINATIONS[name]
    # Redis always: the broker, or where RabbitMQ services keep results.
    stores = {"redis"}
    if answers.get("database") == "postgresql":
        stores.add("postgres")
    if answers.get("broker") == "rabbitmq":
        stores.add("rabbitmq")

    # A scheduler only with the scheduling module.
    roles = ["api", "worker"]
    if "scheduling" in COMBINATIONS[name].get("modules", []):
        roles.append("scheduler")

    assert set(services) == {"migrate", *roles} | stores
    assert services["migrate"]["command"] == [PACKAGE, "migrate"]
    for role in roles:
        assert services[role]["command"] == [PACKAGE, role]
        depends = services[role]["depends_on"]
        assert depends["migrate"] == {"condition": "service_completed_successfully"}
        for store in stores - {"postgres"}:
            assert depends[store] == {"condition": "service_healthy"}
    if "rabbitmq" in stores:
        environment = services["worker"]["environment"]
        assert environment["APP_BROKER_URL"].startswith("amqp://")
        assert environment["APP_RESULT_BACKEND_URL"] == "redis://redis:6379/0"
    if "postgres" in stores:
        migrate_depends = services["migrate"]["depends_on"]
        assert migrate_depends["postgres"] == {"condition": "service_healthy"}
        url = services["api"]["environment"]["APP_DATABASE_URL"]
        assert url.startswith("postgresql+asyncpg://")
        assert "@postgres:5432/" in url
    # A dependency waited on as healthy has a check of its own.
    for service in services.values():
        for dependency, rule in service.get("depends_on", {}).items():
            if rule["condition"] == "service_healthy":
                assert services[dependency]["healthcheck"]["test"]


@pytest.mark.parametrize("name", COMBINATIONS)
def test_compose_sets_only_settings_the_service_reads(rendered: Any, name: str) -> None:
    """A misspelt APP_* variable would be ignored silently by the service."""
    project: Path = rendered(name)
    fields = settings_fields(project)

    for service in compose(project)["services"].values():
        for variable in service.get("environment", {}):
            if variable.startswith("APP_"):
                assert variable.removeprefix("APP_").lower() in fields, variable


def test_workflow_of_a_postgresql_service_runs_postgresql(rendered: Any) -> None:
    project: Path = rendered("postgresql")
    workflow = yaml.safe_load((project / ".github/workflows/ci.yml").read_text())
    job = workflow["jobs"]["test"]

    assert job["services"]["postgres"]["image"].startswith("postgres:")
    assert job["env"]["APP_TEST_DATABASE_URL"].startswith("postgresql+asyncpg://")
    assert (
        "postgres"
        not in yaml.safe_load(
            (rendered("defaults") / ".github/workflows/ci.yml").read_text()
        )["jobs"]["test"]["services"]
    )
    lint = run([str(ACTIONLINT), "-color=false"], cwd=project)
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_postgresql_suite_fails_rather_than_skips_without_its_server(
    rendered: Any,
) -> None:
    project: Path = rendered("postgresql")

    result = run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/test_health.py",
        ],
        cwd=project,
        env={
            "PYTHONPATH": str(project / "src"),
            "APP_TEST_REQUIRE_SERVICES": "1",
            # Nothing listens on port 1.
            "APP_TEST_DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:1/x",
        },
    )

    assert result.returncode != 0
    assert "PostgreSQL is not reachable" in result.stdout
    summary = result.stdout.strip().splitlines()[-1]
    assert re.search(r"\d+ errors?", summary), summary
    assert "skipped" not in summary


@pytest.mark.slow
def test_locked_runtime_install_runs_without_source_or_dev_tools(
    rendered: Any, tmp_path: Path
) -> None:
    """The image build's uv commands, replayed: `uv lock` (what a team commits),
    then `uv sync --locked --no-dev --no-editable` into a fresh environment."""
    uv = shutil.which("uv")
    assert uv, "uv is required (see README.md)"
    project = tmp_path / "service"
    shutil.copytree(rendered("postgresql"), project)
    venv = tmp_path / "venv"
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("APP_", "VIRTUAL_ENV"))
    }
    env["UV_PROJECT_ENVIRONMENT"] = str(venv)

    for command in (
        [uv, "lock", "--quiet"],
        [uv, "sync", "--locked", "--no-dev", "--no-editable", "--quiet"],
    ):
        result = run(command, cwd=project, env=env)
        assert result.returncode == 0, shlex.join(command) + "\n" + result.stderr
    shutil.rmtree(project / "src")  # the image holds no source tree

    python = venv / "bin" / "python"
    probe = (
        f"import importlib.util, pathlib, {PACKAGE}.cli, {PACKAGE}.migrate;"
        "print(importlib.util.find_spec('pytest') is None);"
        f"print(sorted(p.name for p in (pathlib.Path({PACKAGE}.__file__).parent"
        " / 'migrations' / 'versions').glob('*.py')))"
    )
    result = run([str(python), "-c", probe], cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    no_pytest, migrations = result.stdout.splitlines()
    assert no_pytest == "True", "dev dependencies were installed"
    assert "0001_create_users.py" in migrations
    cli = run([str(venv / "bin" / PACKAGE), "--help"], cwd=tmp_path, env=env)
    assert cli.returncode == 0, cli.stderr
    assert "migrate" in cli.stdout
