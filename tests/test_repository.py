"""The template repository's own code meets the bar it sets for generated code."""

from .rendering import ROOT, python, run


def test_repository_code_passes_ruff_and_mypy() -> None:
    checks = [
        python("ruff", "check", "--no-cache", "."),
        python("ruff", "format", "--check", "--no-cache", "."),
        python("mypy"),
    ]
    for command in checks:
        result = run(command, cwd=ROOT)
        assert result.returncode == 0, f"{command}:\n{result.stdout}{result.stderr}"
