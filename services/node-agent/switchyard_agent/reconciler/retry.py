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
    # An object the dataplane refused (a permanent error) is tried again after this backoff:
    # the cause may be gone (an operator removed a conflicting object, a table has room).
    refused_base_delay: float = 1.0
    refused_max_delay: float = 60.0

    def delay(self, attempts: int) -> float:
        """Wait after the `attempts`-th consecutive transient failure (1-based), capped."""
        return _backoff(self.base_delay, self.max_delay, attempts)

    def refused_delay(self, attempts: int) -> float:
        """Wait after the `attempts`-th consecutive refusal (1-based), capped."""
        return _backoff(self.refused_base_delay, self.refused_max_delay, attempts)


def _backoff(base: float, cap: float, attempts: int) -> float:
    exponent = max(0, min(attempts - 1, 30))
    return float(min(cap, base * (2**exponent)))
