"""The ApplyResult of one reconciler call: the whole node's failures and pending keys, plus
the call's own counters."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .passes import Pass
from .result import ApplyResult, Failure
from .state import ObjectState, Status


def summarize(
    revision: int, statuses: Mapping[str, Status], acc: Pass, suspended: Iterable[str]
) -> ApplyResult:
    failed = (ObjectState.FAILED, ObjectState.RETRYING)
    failures = [
        Failure(key, s.message, s.retriable)
        for key, s in sorted(statuses.items())
        if s.state in failed
    ]
    failures += acc.dump_failures  # no per-key status, but the result must not look clean
    pending = sorted(k for k, s in statuses.items() if s.state is ObjectState.PENDING)
    return ApplyResult(
        revision=revision,
        failures=tuple(failures),
        pending=tuple(pending),
        created=acc.created,
        updated=acc.updated,
        deleted=acc.deleted,
        new_failures=tuple(acc.new_failures),
        suspended=tuple(sorted(suspended)),
    )
