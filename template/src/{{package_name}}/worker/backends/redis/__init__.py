"""Redis (``APP_BROKER_URL=redis://…``): the production broker on taskiq-redis
streams, with results and job events in the same Redis; also the store of
results and job events for brokers that keep none (APP_RESULT_BACKEND_URL)."""

from .backend import RedisBackend

BACKEND = RedisBackend()
