"""After `copier copy`, a short message gives the commands to run next."""

import sys
from pathlib import Path

from .rendering import ROOT, run


def test_copy_ends_with_the_next_steps(tmp_path: Path) -> None:
    result = run(
        [
            sys.executable,
            "-m",
            "copier",
            "copy",
            "--trust",
            "--defaults",
            "--vcs-ref=HEAD",
            "-d",
            "project_name=Café Orders",
            str(ROOT),
            "cafe",
        ],
        cwd=tmp_path,
    )

    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    message = output[output.index("Café Orders is ready. Next:") :]
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    assert lines[1] == "cd cafe"
    assert lines[2].startswith(
        "uv run cafe_orders dev    # API on http://127.0.0.1:8000"
    )
    assert lines[3].startswith("uv run pytest")
    assert "uvx copier update --trust --defaults" in lines[4]
    assert len(lines) == 5
    readme = (tmp_path / "cafe" / "README.md").read_text()
    assert "uv run cafe_orders dev " in readme
