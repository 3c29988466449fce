"""Tasks run inside the process that sends them (``APP_BROKER_URL=memory://``):
tests only, refused in production."""

from .backend import MemoryBackend

BACKEND = MemoryBackend()
