"""What a write would change on each node, computed with the compiler's own state.

On the distributor's worker (the only thread that touches the compiled state): apply the
write's changes, keep the per-node deltas, then apply the previous versions again, which puts
the incremental compiler back exactly where it was (it is deterministic; nothing is fanned out
and the batch history is not touched). The reverting deltas hold the values from before, so
each key is classified without reading any node's whole config: added (absent before),
changed, removed. Work is proportional to what the write touches, not to the cluster.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from switchyard_contract.nodeconfig import NodeDelta, NodeObject

from ..compiler.engine import Compiler
from ..compiler.part import IntentChange
from ..distribution.intent_state import CompiledState, intent_of


@dataclass(frozen=True, slots=True)
class NodePlan:
    added: dict[str, NodeObject]
    changed: dict[str, tuple[NodeObject, NodeObject]]  # key -> (before, after)
    removed: dict[str, NodeObject]  # key -> before

    def is_empty(self) -> bool:
        return not (self.added or self.changed or self.removed)


@dataclass(frozen=True, slots=True)
class Plan:
    revision: int  # the compiled revision the plan is relative to
    nodes: dict[str, NodePlan]


class CompilerBehind(Exception):
    """The compiled state has not caught up with the committed change log yet."""


def plan_on_worker(state: CompiledState, forward: Sequence[IntentChange]) -> Plan:
    """On the worker: the stored versions of the written objects are read first, then the
    change log is checked to end at the compiled revision. Commits are atomic and nothing
    compiles meanwhile (this is the compiler's thread), so those versions are exactly what the
    compiler holds: reverting to them leaves it unchanged, and no commit's delta is lost."""
    keys = [(c.ref.kind, c.ref.namespace, c.ref.name) for c in forward]
    stored = state.store.get_many(keys)
    if state.store.changes_after(state.revision, 1):
        raise CompilerBehind
    backward = []
    for change, key in zip(forward, keys, strict=True):
        row = stored.get(key)
        backward.append(IntentChange(change.ref, intent_of(row) if row is not None else None))
    return Plan(state.revision, plan_changes(state.compiler, forward, backward))


def plan_changes(
    compiler: Compiler, forward: Sequence[IntentChange], backward: Sequence[IntentChange]
) -> dict[str, NodePlan]:
    """Apply `forward`, then `backward` (the same objects as they were): the compiler ends
    where it started, and the two sets of deltas are the plan."""
    try:
        applied = compiler.apply(forward)
    finally:
        restored = compiler.apply(backward)
    return compare(applied, restored)


def compare(
    applied: Mapping[str, NodeDelta], restored: Mapping[str, NodeDelta]
) -> dict[str, NodePlan]:
    nodes: dict[str, NodePlan] = {}
    for node in sorted(applied):
        after = applied[node]
        before = restored.get(node) or NodeDelta(node, {}, frozenset())
        plan = NodePlan({}, {}, {})
        for key in sorted(after.upserts):
            value = after.upserts[key]
            old = before.upserts.get(key)
            if old is None:
                plan.added[key] = value
            elif old != value:
                plan.changed[key] = (old, value)
        for key in sorted(after.removals):
            old = before.upserts.get(key)
            if old is not None:
                plan.removed[key] = old
        if not plan.is_empty():
            nodes[node] = plan
    return nodes


def render(value: NodeObject) -> dict[str, Any]:
    """A dataplane object as JSON, secrets left out (a BGP password is only said to be set)."""
    body: dict[str, Any] = {"kind": type(value).KIND, **dataclasses.asdict(value)}
    if body.get("password") is not None:
        body["password"] = "(set)"
    return body


def plan_document(plan: Plan, verbose: bool) -> dict[str, Any]:
    nodes: dict[str, Any] = {}
    totals = {"added": 0, "changed": 0, "removed": 0}
    for node, entry in plan.nodes.items():
        counts = {
            "added": len(entry.added),
            "changed": len(entry.changed),
            "removed": len(entry.removed),
        }
        for what, count in counts.items():
            totals[what] += count
        body: dict[str, Any] = {
            "added": list(entry.added),
            "changed": list(entry.changed),
            "removed": list(entry.removed),
            "counts": counts,
        }
        if verbose:
            body["values"] = {
                **{k: {"after": render(v)} for k, v in entry.added.items()},
                **{
                    k: {"before": render(old), "after": render(new)}
                    for k, (old, new) in entry.changed.items()
                },
                **{k: {"before": render(v)} for k, v in entry.removed.items()},
            }
        nodes[node] = body
    return {
        "compiledRevision": plan.revision,
        "nodes": nodes,
        "counts": {"nodes": len(nodes), **totals},
    }
