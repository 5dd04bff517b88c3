"""The bookkeeping of one reconciler pass: counters, failures and the outcome of one call."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..descriptors import ConnectionLost, Descriptor
from .result import ApplyResult, Failure
from .retry import RetryPolicy


class ApplyObserver(Protocol):
    """Told about every reconciler call (metrics, health); called on the worker thread."""

    def on_apply(
        self, result: ApplyResult, duration: float, objects: Mapping[str, int]
    ) -> None: ...


class Suspended(Exception):
    """A call hit ConnectionLost: abandon this object; its dataplane is now suspended."""


@dataclass(slots=True)
class Pass:
    created: int = 0
    updated: int = 0
    deleted: int = 0
    new_failures: list[Failure] = field(default_factory=list)
    dump_failures: list[Failure] = field(default_factory=list)  # keyed "<kind>/*"
    progressed: bool = False  # something became applied or was deleted: re-check pending keys


@dataclass(frozen=True, slots=True)
class CallOutcome:
    metadata: object = None
    failure: Failure | None = None
    attempts: int = 0


def call_with_retries(
    key: str,
    descriptor: Descriptor[Any],
    op: str,
    fn: Callable[[], object],
    attempts: int,
    policy: RetryPolicy,
    sleep: Callable[[float], None],
) -> CallOutcome:
    """Run one descriptor call with bounded inline retries of transient errors; `attempts`
    counts the key's earlier failed attempts. Suspended on ConnectionLost."""
    # A key already in backoff gets one attempt per retry: the wait was the backoff.
    tries = 1 if attempts else max(1, policy.inline_attempts)
    error: Exception | None = None
    retriable = False
    for attempt in range(tries):
        try:
            return CallOutcome(metadata=fn())
        except ConnectionLost as exc:
            raise Suspended(key) from exc
        except Exception as exc:
            error = exc
            attempts += 1
            retriable = descriptor.is_retriable(exc)
            if not retriable:
                break
            if attempt + 1 < tries:
                sleep(policy.delay(attempts))
    failure = Failure(key, f"{op} failed: {error}", retriable)
    return CallOutcome(failure=failure, attempts=attempts)
