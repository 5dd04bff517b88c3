"""What one reconciler call reports, judged from the per-key status: failures, keys that are
pending but must not be claimed as applied, and keys that will be retried.

A node may ACK a revision while objects wait for something only the outside brings (a pod's
interface that the CNI plugin has not created in VPP yet): that is the normal order of events.
Anything else that is pending (a dataplane that is down, an object waiting for one that failed
or that the configuration lacks, a deletion held back by a user) is not applied, and saying
otherwise would claim convergence for work the dataplane has not done.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from ..descriptors import kind_of
from .passes import Pass
from .result import ApplyResult, Failure, Waiting
from .state import ObjectState, Status

# Characters of a failed dependency's message quoted in a pending object's reason.
QUOTED_CHARS = 80


def awaiting_outside(statuses: Mapping[str, Status], awaited_kinds: Collection[str]) -> set[str]:
    """The pending keys whose missing dependencies are all outside objects of `awaited_kinds`
    or keys that themselves only await those (transitively)."""
    verdict: dict[str, bool] = {}

    def awaits(key: str, trail: set[str]) -> bool:
        known = verdict.get(key)
        if known is not None:
            return known
        status = statuses.get(key)
        if status is None or status.state is not ObjectState.PENDING or not status.waiting_for:
            return False
        trail.add(key)
        result = all(
            dep not in trail
            and ((kind_of(dep) in awaited_kinds and dep not in statuses) or awaits(dep, trail))
            for dep in status.waiting_for
        )
        trail.discard(key)
        verdict[key] = result
        return result

    return {key for key in statuses if awaits(key, set())}


def why_missing(dep: str, statuses: Mapping[str, Status], awaited_kinds: Collection[str]) -> str:
    """What stands between a dependency and its dependant, in a few words."""
    status = statuses.get(dep)
    if status is None:
        if kind_of(dep) in awaited_kinds:
            return "the dataplane does not have it yet"
        return "not in the node's configuration"
    if status.state is ObjectState.PENDING:
        return "itself pending"
    if status.state in (ObjectState.FAILED, ObjectState.RETRYING):
        message = status.message
        if len(message) > QUOTED_CHARS:
            message = message[: QUOTED_CHARS - 1] + "…"
        return f"failed: {message}"
    return "not applied yet"


def explain(
    keys: Collection[str], statuses: Mapping[str, Status], awaited_kinds: Collection[str]
) -> tuple[Waiting, ...]:
    """Each pending key with what it waits for; the reason names why each dependency is
    missing, e.g. "waiting for vpp-interface/tap3 (the dataplane does not have it yet)"."""
    found = []
    for key in keys:
        status = statuses[key]
        if status.waiting_for:
            deps = ", ".join(
                f"{dep} ({why_missing(dep, statuses, awaited_kinds)})" for dep in status.waiting_for
            )
            reason = f"waiting for {deps}"
        else:
            reason = status.message
        found.append(Waiting(key, status.waiting_for, reason))
    return tuple(found)


def judge(
    revision: int,
    statuses: Mapping[str, Status],
    acc: Pass,
    suspended: Collection[str],
    awaited_kinds: Collection[str],
) -> ApplyResult:
    failed = (ObjectState.FAILED, ObjectState.RETRYING)
    failures = [
        Failure(key, s.message, s.retriable)
        for key, s in sorted(statuses.items())
        if s.state in failed
    ]
    failures += acc.dump_failures  # no per-key status, but the result must not look clean
    pending = sorted(k for k, s in statuses.items() if s.state is ObjectState.PENDING)
    waiting = awaiting_outside(statuses, awaited_kinds)
    not_applied = tuple(
        Failure(key, f"not applied: {statuses[key].message}", True)
        for key in pending
        if key not in waiting
    )
    retrying = tuple(
        sorted(k for k, s in statuses.items() if s.state in failed and s.retry_at is not None)
    )
    return ApplyResult(
        revision=revision,
        failures=tuple(failures),
        pending=tuple(pending),
        created=acc.created,
        updated=acc.updated,
        deleted=acc.deleted,
        new_failures=tuple(acc.new_failures),
        suspended=tuple(sorted(suspended)),
        not_applied=not_applied,
        retrying=retrying,
        waiting=explain(pending, statuses, awaited_kinds),
    )
