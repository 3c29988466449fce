"""pytest plugins for the production choices this service was generated with:
its database and, when it is not Redis, its broker. Each choice's fixtures live
in a module that only services with that choice have; ``tests/conftest.py``
registers every module here.
"""

import importlib
import pkgutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class WorkerTestBroker:
    """A broker the worker tests (``tests/worker/``) also run on, declared by
    its plugin as ``WORKER_TEST_BROKER``."""

    # The marker of its tests, and the fixture giving its URL: ``<name>_url``.
    name: str
    # The URL schemes of this broker.
    schemes: tuple[str, ...]
    # Removes what a test's queue left on the broker: (URL, queue name).
    delete_queue: Callable[[str, str], Awaitable[None]]


def plugin_names() -> list[str]:
    infos = sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name)
    return [f"{__name__}.{info.name}" for info in infos]


def worker_test_brokers() -> list[WorkerTestBroker]:
    brokers = []
    for name in plugin_names():
        declared = getattr(importlib.import_module(name), "WORKER_TEST_BROKER", None)
        if isinstance(declared, WorkerTestBroker):
            brokers.append(declared)
    return brokers
