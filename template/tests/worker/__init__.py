"""Broker tests: each broker alone, and with real worker processes."""
