"""Request ids, logs and metrics, in process and with real processes."""
