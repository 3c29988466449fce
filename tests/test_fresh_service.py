"""The README's first command on a fresh render: `uv run <package> dev` serves the
API, a separate worker process sends the welcome e-mail, Ctrl-C stops it all."""

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from .rendering import PACKAGE

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def poll(
    url: str,
    until: Any,
    process: subprocess.Popen[str],
    timeout: float,
    headers: dict[str, str] | None = None,
) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "dev exited early"
        try:
            response = httpx.get(url, headers=headers, timeout=2)
            if until(response):
                return response.json()
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not reach the expected state in {timeout} s")


def test_uv_run_dev_serves_api_and_worker(rendered: Any, tmp_path: Path) -> None:
    uv = shutil.which("uv")
    assert uv, "uv is required (see README.md)"
    project = tmp_path / "service"
    shutil.copytree(rendered("defaults"), project)
    port = free_port()
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("APP_", "VIRTUAL_ENV"))
    }
    env["APP_API_PORT"] = str(port)
    base = f"http://127.0.0.1:{port}"

    sync = subprocess.run(
        [uv, "sync", "--quiet"],
        cwd=project,
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert sync.returncode == 0, sync.stderr
    log = (tmp_path / "dev.log").open("w+")
    dev = subprocess.Popen(
        [uv, "run", "--no-sync", PACKAGE, "dev"],
        cwd=project,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        poll(f"{base}/health/ready", lambda r: r.status_code == 200, dev, 60)
        started = time.monotonic()
        created = httpx.post(
            f"{base}/users",
            json={"email": "ada@example.com", "password": "correct horse"},
            timeout=10,
        )
        answered_in = time.monotonic() - started
        assert created.status_code == 201, created.text
        # The job is the new user's: they log in to follow it (README).
        login = httpx.post(
            f"{base}/auth/token",
            data={"username": "ada@example.com", "password": "correct horse"},
            timeout=10,
        )
        assert login.status_code == 200, login.text
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        job_url = f"{base}/jobs/{created.json()['welcome_email_job_id']}"
        job = poll(
            job_url,
            lambda r: r.json()["status"] == "succeeded",
            dev,
            30,
            headers=headers,
        )
        assert job["result"] is True
        assert answered_in < 5
    finally:
        # What a terminal's Ctrl-C does: SIGINT to the foreground process group.
        os.killpg(dev.pid, signal.SIGINT)
        try:
            code = dev.wait(timeout=30)
        finally:
            if dev.poll() is None:
                os.killpg(dev.pid, signal.SIGKILL)
        log.seek(0)
        output = log.read()
    assert code == 0, output
    # The e-mail was logged by the worker process, not by the API process.
    worker_pid = re.search(r"Started process worker-0 with pid (\d+)", output)
    mail_pid = re.search(
        r"\[pid (\d+)\] [\w.]+: E-mail \(not sent, APP_SMTP_URL unset\) "
        r"to=ada@example.com",
        output,
    )
    assert worker_pid, output
    assert mail_pid, output
    assert mail_pid.group(1) == worker_pid.group(1)
    leftovers = subprocess.run(
        ["pgrep", "-f", f"{project}"], capture_output=True, text=True, check=False
    )
    assert leftovers.stdout.strip() == "", "processes survived Ctrl-C"
    assert (project / "var" / "app.db").exists()
