"""The websocket module's part of the service's command line (see ``cli.py``)."""

import argparse
from typing import Any

from .settings import get_websocket_settings

# Processes this module adds to ``<package> dev``: none.
DEV_COMMANDS: list[list[str]] = []


def add_commands(
    commands: "argparse._SubParsersAction[argparse.ArgumentParser]",
) -> None:
    """No commands of its own."""


def server_options() -> dict[str, Any]:
    """uvicorn refuses a larger frame itself (close 1009) instead of buffering
    up to its default 16 MiB before the room's own check sees it."""
    return {"ws_max_size": get_websocket_settings().ws_max_message_bytes}
