"""The service's command line: ``dev``, ``api``, ``worker``, ``migrate``,
``dead-letters``, and the commands of features that have a ``cli.py`` (with
``add_commands(commands)`` and ``DEV_COMMANDS``, the processes ``dev`` adds,
and optionally ``server_options()``, uvicorn settings of the API)."""

import argparse
import asyncio
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any

import uvicorn
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from .banner import announce_when_ready
from .discovery import import_feature_modules
from .observability.logs import configure_logging, logging_config
from .observability.multiprocess import multiprocess_directory
from .observability.tracing import (
    TracingUnavailableError,
    check_tracing_installed,
    tracing_requested,
)
from .settings import Settings, get_settings

PACKAGE = __name__.rpartition(".")[0]
APP_FACTORY = f"{PACKAGE}.app:create_app"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog=PACKAGE,
        description=f"{PACKAGE}: the service's API, task workers and tools. "
        "Settings come from APP_* environment variables (or .env).",
        epilog=f"'{PACKAGE} COMMAND --help' gives a command's options.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    dev = add_command(
        commands,
        "dev",
        "migrate, then run the API, a worker and what modules add; each restarts "
        "when the code changes",
    )
    api = add_command(commands, "api", "run the HTTP API")
    api.add_argument("--reload", action="store_true", help="restart on code changes")
    for command in (dev, api):
        command.add_argument(
            "--host",
            dest="api_host",
            metavar="HOST",
            help="address to listen on (default: APP_API_HOST)",
        )
        command.add_argument(
            "--port",
            dest="api_port",
            metavar="PORT",
            type=int,
            help="port to listen on (default: APP_API_PORT)",
        )
    add_command(commands, "worker", "run task worker processes")
    add_command(commands, "migrate", "upgrade the database to the latest schema")
    dead = add_command(
        commands, "dead-letters", "list parked messages, or send them again"
    )
    dead.add_argument(
        "--requeue",
        nargs="+",
        default=[],
        metavar="ID",
        help="send these dead letters again (ids from the list)",
    )
    dead.add_argument(
        "--requeue-all", action="store_true", help="send every dead letter again"
    )
    for feature in import_feature_modules("cli"):
        feature.add_commands(commands)
    args = parser.parse_args(argv)

    problems = settings_problems()
    if problems:
        sys.exit("Invalid settings (environment variables APP_*):\n" + problems)
    settings = get_settings()
    if tracing_requested():
        try:
            check_tracing_installed()
        except TracingUnavailableError as exc:
            sys.exit(str(exc))
    configure_logging(settings.log_format_in_use, settings.log_level)
    if args.command in ("dev", "api"):
        settings = listening_settings(settings, args)

    if args.command == "dev":
        sys.exit(run_dev(settings))
    if args.command == "api":
        run_api(settings, reload=args.reload)
    elif args.command == "worker":
        sys.exit(run_worker(settings))
    elif args.command == "migrate":
        migrate(settings)
    elif args.command == "dead-letters":
        sys.exit(dead_letters(requeue=args.requeue, requeue_all=args.requeue_all))
    else:
        sys.exit(args.handler(settings, args))


def add_command(
    commands: "argparse._SubParsersAction[argparse.ArgumentParser]",
    name: str,
    summary: str,
) -> argparse.ArgumentParser:
    """A command whose summary is also its own --help's description."""
    description = f"{summary[0].upper()}{summary[1:]}."
    return commands.add_parser(name, help=summary, description=description)


def settings_problems() -> str:
    """What is wrong with the service's settings and with each feature's own,
    all at once: a feature's unsafe production value then stops the start
    with a message, not its first request."""
    from pydantic_settings import BaseSettings

    settings_classes: list[type[BaseSettings]] = [Settings]
    for module in import_feature_modules("settings"):
        settings_classes += [
            value
            for value in vars(module).values()
            if isinstance(value, type)
            and issubclass(value, BaseSettings)
            and value.__module__ == module.__name__
        ]
    problems = []
    for settings_class in settings_classes:
        try:
            settings_class()
        except ValidationError as exc:
            prefix = str(settings_class.model_config.get("env_prefix", ""))
            problems += [_problem(prefix, error) for error in exc.errors()]
    return "\n".join(problems)


def _problem(prefix: str, error: ErrorDetails) -> str:
    """One line per problem, named by its variable; never the value, which may
    hold a password."""
    message = error["msg"].removeprefix("Value error, ")
    if not error["loc"]:  # A check across settings names them itself.
        return f"- {message}"
    return f"- {prefix}{str(error['loc'][0]).upper()}: {message}"


def listening_settings(settings: Settings, args: argparse.Namespace) -> Settings:
    """The settings with --host and --port applied; exits if the API could not
    listen there."""
    from .ports import listen_problem

    given = {key: getattr(args, key) for key in ("api_host", "api_port")}
    settings = settings.model_copy(
        update={key: value for key, value in given.items() if value is not None}
    )
    problem = listen_problem(settings.api_host, settings.api_port)
    if problem:
        sys.exit(problem)
    return settings


def migrate(settings: Settings) -> None:
    from sqlalchemy.exc import DBAPIError

    from .migrate import upgrade_database

    try:
        upgrade_database(settings.database_url)
    except (OSError, DBAPIError) as exc:
        reason = exc.orig if isinstance(exc, DBAPIError) else exc
        sys.exit(f"Cannot migrate the database at APP_DATABASE_URL: {reason}")


def dead_letters(*, requeue: list[str], requeue_all: bool) -> int:
    from .worker.broker import broker
    from .worker.dead_letters import manage_dead_letters

    return asyncio.run(
        manage_dead_letters(broker, requeue=requeue, requeue_all=requeue_all)
    )


def run_api(settings: Settings, *, reload: bool = False) -> None:
    # A feature's cli.py may set server limits of its own (SERVER_OPTIONS).
    options: dict[str, Any] = {}
    for feature in import_feature_modules("cli"):
        options.update(getattr(feature, "server_options", dict)())
    # Every API process counts into one set of metrics (see observability/).
    with multiprocess_directory():
        uvicorn.run(
            APP_FACTORY,
            factory=True,
            host=settings.api_host,
            port=settings.api_port,
            workers=None if reload else settings.api_workers,
            reload=reload,
            reload_dirs=[str(Path(__file__).parent)] if reload else None,
            log_level=settings.log_level.lower(),
            # Applied again in each process uvicorn spawns (workers, reload).
            log_config=logging_config(settings.log_format_in_use, settings.log_level),
            **options,
        )


def run_worker(settings: Settings) -> int:
    if settings.worker_metrics_port is None:
        return run_worker_processes(settings)
    # The worker processes count into files that this process (their
    # supervisor) adds up on each scrape of the metrics port.
    with multiprocess_directory():
        from .observability.worker_metrics import MetricsPortError, serve_worker_metrics

        try:
            serve_worker_metrics(settings)
        except MetricsPortError as exc:
            sys.exit(str(exc))
        return run_worker_processes(settings)


def run_worker_processes(settings: Settings) -> int:
    # taskiq's own worker runner: process supervision, graceful shutdown on
    # SIGTERM, prefetch and concurrency limits.
    from taskiq.cli.worker.args import WorkerArgs
    from taskiq.cli.worker.run import run_worker as run_taskiq_worker

    from .discovery import feature_module_names

    grace = str(settings.worker_shutdown_grace_seconds)
    args = WorkerArgs.from_cli(
        [
            f"{PACKAGE}.worker.broker:broker",
            *feature_module_names("tasks"),
            "--workers",
            str(settings.worker_processes),
            "--max-async-tasks",
            str(settings.worker_concurrency),
            "--max-prefetch",
            str(settings.worker_prefetch),
            "--wait-tasks-timeout",
            grace,
            "--shutdown-timeout",
            grace,
            "--log-level",
            settings.log_level,
            # Worker processes inherit this process's logging (observability/).
            "--no-configure-logging",
        ]
    )
    return run_taskiq_worker(args) or 0


def run_dev(settings: Settings) -> int:
    """Everything a laptop needs, as separate processes: tasks really leave the
    API process, as they do in production. Ctrl-C stops them all."""
    migrate(settings)
    me = [sys.executable, "-m", PACKAGE]
    # Restarted on code changes, as uvicorn's --reload restarts the API.
    reloading = [sys.executable, "-m", f"{PACKAGE}.reloader"]
    features = [
        [*reloading, *command]
        for feature in import_feature_modules("cli")
        for command in feature.DEV_COMMANDS
    ]
    address = ["--host", settings.api_host, "--port", str(settings.api_port)]
    api = [*me, "api", "--reload", *address]
    processes = [api, [*reloading, "worker"], *features]
    # Each command's name follows `python -m <module>`.
    announce_when_ready(settings, [command[3] for command in processes])
    return supervise(processes)


def supervise(commands: list[list[str]], grace_seconds: float = 10.0) -> int:
    """Run the commands until one exits or we are told to stop; then stop all."""
    # Own process groups: a terminal's Ctrl-C reaches only us, and each child
    # gets exactly one SIGTERM from us (taskiq hard-kills on repeated signals).
    children = [subprocess.Popen(command, process_group=0) for command in commands]
    stop_requested = False

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stop_requested
        stop_requested = True

    previous = {
        sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        while not stop_requested and all(c.poll() is None for c in children):
            time.sleep(0.1)
    finally:
        for child in children:
            if child.poll() is None:
                child.terminate()
        deadline = time.monotonic() + grace_seconds
        for child in children:
            try:
                child.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    failed = [c.returncode for c in children if c.returncode not in (0, -15)]
    return 0 if stop_requested or not failed else failed[0]
