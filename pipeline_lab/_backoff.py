"""Backoff between retries: one pure function for the engine (nodes) and connectors (requests)."""

from __future__ import annotations

import random


def next_delay(attempt: int, base: float, factor: float, cap: float, rng: random.Random) -> float:
    """Seconds to wait after failed attempt ``attempt`` (1-based): full jitter, capped.

    The ceiling grows as ``base * factor ** (attempt - 1)`` up to ``cap``; the delay is drawn
    uniformly below it, so many retrying nodes do not hammer a service in lock step.
    """
    if attempt < 1:
        raise ValueError("attempt is 1-based")
    ceiling = min(cap, base * factor ** (attempt - 1))
    return rng.uniform(0.0, max(0.0, ceiling))
