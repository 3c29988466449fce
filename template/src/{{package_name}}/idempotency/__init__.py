"""Idempotency keys: a retried request replays its first response."""
