"""``python -m <package>.reloader worker``: run ``<package> worker`` (or any of its
commands) and restart it when the package's Python code changes. ``dev`` runs
the worker and the scheduler this way; uvicorn reloads the API itself."""

import logging
import shlex
import sys
from pathlib import Path

from watchfiles import Change, PythonFilter, run_process

from .observability.logs import configure_logging
from .settings import get_settings

# Run as ``python -m``: ``__name__`` is then "__main__".
PACKAGE = __package__ or __name__.rpartition(".")[0]
SOURCE = Path(__file__).parent

logger = logging.getLogger(__name__)


def main(args: list[str]) -> int:
    settings = get_settings()
    configure_logging(settings.log_format_in_use, settings.log_level)
    # watchfiles logs each signal it handles as a warning: noise in dev's output.
    logging.getLogger("watchfiles").setLevel(logging.ERROR)
    command = shlex.join([sys.executable, "-m", PACKAGE, *args])

    def changed(changes: set[tuple[Change, str]]) -> None:
        paths = sorted({str(Path(path).relative_to(SOURCE)) for _, path in changes})
        logger.info("Code changed (%s): restarting %s", ", ".join(paths), args[0])

    run_process(
        SOURCE,
        target=command,
        target_type="command",
        watch_filter=PythonFilter(),
        callback=changed,
        # Time for a worker's running tasks to finish or be handed back.
        sigint_timeout=int(settings.worker_shutdown_grace_seconds),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
