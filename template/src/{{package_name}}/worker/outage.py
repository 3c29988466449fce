"""Backoff and log lines for a loop that talks to a store that may be down.

A worker facing an unreachable Redis used to log a warning every second for as
long as the outage lasted. Here: one warning when the store stops answering,
one line when it answers again, and waits in between that double from
``first_delay`` up to ``max_delay`` (so a long outage costs a retry every few
seconds, and a blip a fraction of a second).
"""

import logging


class Outage:
    def __init__(
        self,
        store: str,
        logger: logging.Logger,
        *,
        first_delay: float = 0.25,
        max_delay: float = 5.0,
    ) -> None:
        self.store = store
        self.logger = logger
        self.first_delay = first_delay
        self.max_delay = max_delay
        self.failures = 0

    def failed(self, exc: BaseException) -> float:
        """Note a failed attempt; the seconds to wait before the next one."""
        self.failures += 1
        delay: float = min(
            self.first_delay * 2.0 ** (self.failures - 1), self.max_delay
        )
        if self.failures == 1:
            self.logger.warning(
                "%s is unavailable, retrying with backoff (up to %.0f s): %s",
                self.store,
                self.max_delay,
                exc,
            )
        else:
            self.logger.debug("%s still unavailable: %s", self.store, exc)
        return delay

    def succeeded(self) -> None:
        """Note a successful attempt; logs the end of an outage."""
        if self.failures:
            self.logger.warning(
                "%s is available again after %d failed attempts",
                self.store,
                self.failures,
            )
            self.failures = 0
