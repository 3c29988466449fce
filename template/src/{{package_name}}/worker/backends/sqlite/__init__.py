"""The embedded default (``APP_BROKER_URL=sqlite:///…``): the task queue, its
results and job events in one SQLite file, nothing to install."""

from .backend import SqliteBackend

BACKEND = SqliteBackend()
