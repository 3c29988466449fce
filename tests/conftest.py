from pathlib import Path
from typing import Any

import pytest

from .rendering import COMBINATIONS, render

_cache: dict[str, Path] = {}


@pytest.fixture(scope="session")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Render a named combination once per test process and reuse it."""

    def get(name: str) -> Path:
        if name not in _cache:
            _cache[name] = render(tmp_path_factory.mktemp(name), COMBINATIONS[name])
        return _cache[name]

    return get
