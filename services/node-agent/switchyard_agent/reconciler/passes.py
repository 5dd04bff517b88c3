"""The bookkeeping of one reconciler pass: counters, failures and the outcome of one call."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from .result import ApplyResult, Failure


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
