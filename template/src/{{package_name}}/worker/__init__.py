"""The task queue: broker chosen from ``APP_BROKER_URL``, and its FastAPI bridge."""
