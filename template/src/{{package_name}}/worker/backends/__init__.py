"""The task backends this service has, found by their packages.

Every sub-package declares ``BACKEND`` (see ``interface.Backend``); a service
generated without a backend has no package for it, so nothing here names one.
"""

import importlib
import pkgutil
from functools import lru_cache
from urllib.parse import urlsplit

from .interface import Backend


@lru_cache
def all_backends() -> tuple[Backend, ...]:
    found = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.ispkg:
            module = importlib.import_module(f"{__name__}.{info.name}")
            found.append(module.BACKEND)
    return tuple(found)


def broker_schemes() -> tuple[str, ...]:
    return tuple(s for backend in all_backends() for s in backend.schemes)


def store_schemes() -> tuple[str, ...]:
    return tuple(s for backend in all_backends() for s in backend.store_schemes)


def broker_backend(url: str) -> Backend:
    """The backend of an APP_BROKER_URL; ValueError for an unknown scheme."""
    scheme = urlsplit(url).scheme
    for backend in all_backends():
        if scheme in backend.schemes:
            return backend
    expected = ", ".join(f"{s}://" for s in broker_schemes())
    raise ValueError(f"unsupported broker {scheme!r}: use one of {expected}")


def store_backend(url: str) -> Backend:
    """The backend keeping results and job events at ``url``: a result backend
    URL, or a broker URL whose broker keeps its own results."""
    scheme = urlsplit(url).scheme
    for backend in all_backends():
        if scheme in backend.store_schemes or (
            backend.keeps_results and scheme in backend.schemes
        ):
            return backend
    expected = ", ".join(f"{s}://" for s in store_schemes())
    raise ValueError(f"unsupported result backend: use one of {expected}")
