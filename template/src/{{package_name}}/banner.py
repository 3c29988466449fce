"""``dev``'s banner: once the API answers, the URLs that matter and the
processes that run, instead of a reader hunting through start-up logs."""

import logging
import sys
import threading
import time
import urllib.request

from .settings import Settings

PACKAGE = __name__.rpartition(".")[0]
# A slow first start (a cold uv environment) can take this long.
WAIT_SECONDS = 300.0

logger = logging.getLogger(__name__)


def banner(settings: Settings, processes: list[str]) -> str:
    base = api_url(settings)
    lines = [
        f"{PACKAGE} is running:",
        f"  API       {base}",
        f"  docs      {base}/docs",
    ]
    if settings.metrics_enabled:
        lines.append(f"  metrics   {base}/metrics")
    if settings.worker_metrics_port is not None:
        host = settings.worker_metrics_host
        lines.append(f"  worker metrics http://{host}:{settings.worker_metrics_port}")
    lines.append(
        f"  processes {', '.join(processes)}; each restarts when the code changes"
    )
    lines.append("Ctrl-C stops them all.")
    return "\n".join(lines)


def api_url(settings: Settings) -> str:
    # Listening on every interface: this machine's own address is one of them.
    host = {"0.0.0.0": "127.0.0.1", "::": "[::1]"}.get(  # noqa: S104
        settings.api_host, settings.api_host
    )
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{settings.api_port}"


def announce_when_ready(settings: Settings, processes: list[str]) -> None:
    """Print the banner from a background thread once the API answers."""
    threading.Thread(target=_announce, args=(settings, processes), daemon=True).start()


def _announce(settings: Settings, processes: list[str]) -> None:
    live = f"{api_url(settings)}/health/live"
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        try:
            # urllib, not httpx: httpx logs every request it makes.
            with urllib.request.urlopen(live, timeout=1) as response:  # noqa: S310
                if response.status == 200:
                    break
        except OSError:  # URLError included
            pass
        time.sleep(0.2)
    else:
        return
    text = banner(settings, processes)
    if settings.log_format_in_use == "json":  # One JSON object per line, always.
        logger.info(text)
    else:
        print(f"\n{text}\n", file=sys.stderr, flush=True)
