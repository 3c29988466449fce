"""Retries with exponential backoff and jitter, opted into per task by label:

    @broker.task(retry_on_error=True, max_retries=5)

The wait is real: the brokers here honour the ``delay`` label that the retry is
sent with (taskiq-redis's upstream brokers ignore it and retry at once).
"""

import random

from taskiq import SmartRetryMiddleware, TaskiqMessage


class BackoffRetryMiddleware(SmartRetryMiddleware):
    """taskiq's SmartRetryMiddleware, with a true exponential backoff.

    Upstream multiplies the previous attempt's delay label by the attempt number
    (d, 2d, 6d, 24d…: factorial growth), and its jitter adds at most one second
    whatever the delay. Here attempt n waits ``base * 2**(n-1)``, capped, then
    "full jitter": a uniform draw in [delay/2, delay] spreads a burst of failures.
    """

    def __init__(
        self,
        *,
        base_delay_seconds: float = 1.0,
        max_delay_seconds: float = 300.0,
        default_max_retries: int = 3,
    ) -> None:
        super().__init__(
            default_retry_count=default_max_retries,
            default_delay=base_delay_seconds,
            use_jitter=True,
            max_delay_exponent=max_delay_seconds,
        )

    def make_delay(self, message: TaskiqMessage, retries: int) -> float:
        base = float(message.labels.get("retry_base_delay", self.default_delay))
        cap: float = self.max_delay_exponent
        delay = min(base * 2.0 ** (retries - 1), cap)
        if not self.use_jitter:
            return delay
        return random.uniform(delay / 2, delay)  # noqa: S311 (not for secrets)
