"""Can the API listen where it is told to? Asked before anything starts, so a
port in use is one line naming the port and the setting, not uvicorn's error."""

import errno
import socket


def listen_problem(host: str, port: int) -> str | None:
    """Why the API could not listen on ``host:port``, or None if it can."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        # As uvicorn binds: a port in TIME_WAIT after a restart is free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return (
                    f"Port {port} on {host} is in use: stop what holds it, or "
                    "choose another port with APP_API_PORT=… or --port …"
                )
            return (
                f"Cannot listen on {host}:{port} (APP_API_HOST, APP_API_PORT, "
                f"or --host, --port): {exc.strerror or exc}"
            )
    return None
