"""Exponential backoff with full jitter (a random delay up to the capped exponential)."""

from __future__ import annotations

import random


class Backoff:
    def __init__(self, initial: float = 0.5, maximum: float = 30.0) -> None:
        self.initial = initial
        self.maximum = maximum
        self.failures = 0

    def next_delay(self) -> float:
        ceiling = min(self.maximum, self.initial * (2**self.failures))
        self.failures += 1
        # Full jitter spreads many adapters (or kinds) retrying against one recovering server.
        return random.uniform(ceiling / 2, ceiling)

    def reset(self) -> None:
        self.failures = 0
