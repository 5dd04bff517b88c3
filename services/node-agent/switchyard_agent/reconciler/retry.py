"""Bounded exponential backoff for transient descriptor errors."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    # Attempts inside one apply before the key is parked for a later `retry_due()`: a short
    # hiccup still ends in an ACK, a longer outage does not block the worker thread.
    inline_attempts: int = 3
    base_delay: float = 0.05
    max_delay: float = 30.0

    def delay(self, attempts: int) -> float:
        """Wait after the `attempts`-th consecutive failure (1-based), capped."""
        exponent = max(0, min(attempts - 1, 30))
        return float(min(self.max_delay, self.base_delay * (2**exponent)))
