"""Task labels the brokers here read themselves."""

import logging
import math
from typing import Any

logger = logging.getLogger(__name__)


def delay_seconds(label: Any) -> float:
    """The ``delay`` label (seconds before a message may run), as a float.

    Labels travel as text, so it arrives as str, int or float; anything that is
    not a finite number is ignored with a warning rather than failing the send.
    """
    if label is None:
        return 0.0
    try:
        delay = float(label)
    except (TypeError, ValueError):
        logger.warning("Ignoring invalid delay label %r", label)
        return 0.0
    return max(delay, 0.0) if math.isfinite(delay) else 0.0
