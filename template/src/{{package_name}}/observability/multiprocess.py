"""prometheus-client's multiprocess mode, switched on by the CLI.

Each process writes its metrics to files under ``PROMETHEUS_MULTIPROC_DIR``; a
scrape of any one process adds up all of them, so several API or worker
processes report one set of numbers. prometheus-client reads the variable when
it is first imported: this module imports nothing of it, and the CLI enters
``multiprocess_directory()`` before anything else does.
"""

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"
PACKAGE = __name__.split(".")[0]


@contextmanager
def multiprocess_directory() -> Iterator[str]:
    """Point ``PROMETHEUS_MULTIPROC_DIR`` for this process and its children at
    a fresh directory, removed at exit. One already set is used as is: it must
    be empty when the service starts, and not shared by the API and workers."""
    if given := os.environ.get(MULTIPROC_DIR):
        yield given
        return
    path = tempfile.mkdtemp(prefix=f"{PACKAGE}-metrics-")
    os.environ[MULTIPROC_DIR] = path
    try:
        yield path
    finally:
        del os.environ[MULTIPROC_DIR]
        shutil.rmtree(path, ignore_errors=True)
