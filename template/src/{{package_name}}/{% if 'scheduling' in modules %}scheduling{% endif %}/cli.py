"""``<package> scheduler``: found by the service's command line (see ``cli.py``)."""

import argparse
import asyncio
import signal
import sys

from ..settings import Settings

# Processes this module adds to ``<package> dev``.
DEV_COMMANDS = [["scheduler"]]


def add_commands(
    commands: "argparse._SubParsersAction[argparse.ArgumentParser]",
) -> None:
    summary = "send scheduled tasks (run one or more: one leads, one takes over)"
    scheduler = commands.add_parser(
        "scheduler", help=summary, description=f"S{summary[1:]}."
    )
    scheduler.add_argument(
        "--fire-on-start",
        action="store_true",
        help="also send cron schedules due in the minute the scheduler starts",
    )
    scheduler.set_defaults(handler=run)


def run(settings: Settings, args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_serve(settings, fire_on_start=args.fire_on_start))
    except ValueError as exc:  # a setting the scheduler cannot work with
        sys.exit(f"Cannot start the scheduler: {exc}")


async def _serve(settings: Settings, *, fire_on_start: bool) -> int:
    from ..discovery import import_feature_modules
    from ..worker.broker import broker
    from .deps import schedule_store
    from .leases import create_leases
    from .scheduler import (
        ExactlyOnceScheduler,
        LeaderElection,
        StableLabelScheduleSource,
        new_holder_id,
        run_scheduler,
    )
    from .settings import get_scheduling_settings

    leases = create_leases(settings)
    import_feature_modules("tasks")  # registers the tasks whose labels hold schedules
    broker.is_scheduler_process = True
    holder = new_holder_id()
    scheduler = ExactlyOnceScheduler(
        broker,
        [StableLabelScheduleSource(broker), schedule_store],
        leases=leases,
        holder=holder,
        send_timeout_seconds=settings.broker_timeout_seconds,
    )
    election = LeaderElection(
        leases,
        holder=holder,
        lease_seconds=get_scheduling_settings().scheduler_lease_seconds,
    )
    main = asyncio.current_task()
    assert main is not None
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, main.cancel)
    try:
        await run_scheduler(scheduler, election, fire_on_start=fire_on_start)
    except asyncio.CancelledError:
        return 0
    finally:
        await leases.close()
    return 0
