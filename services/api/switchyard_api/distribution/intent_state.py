"""The compiled intent of one API replica: loaded from the store, kept current from the change
log, and able to say what changed for a node since a revision.

Not thread-safe: the distributor calls it from one worker thread at a time.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from switchyard_contract.nodeconfig import NodeConfig, NodeDelta, NodeObject

from ..compiler.engine import Compiler
from ..compiler.part import IntentChange
from ..compiler.problems import CompileError
from ..representation import to_intent
from ..resources.intent import IntentObject, ObjectRef
from ..resources.registry import BY_KIND
from ..store.attachments import Attached, attachments_by_pod, effective
from ..store.models import StoredObject
from ..store.store import IntentStore

log = logging.getLogger("switchyard.distribution")

Attachments = Mapping[tuple[str, str], list[Attached]]

# How many compiled batches are kept to answer "what changed since revision R" on reconnect.
HISTORY_BATCHES = 2048


@dataclass(frozen=True, slots=True)
class Batch:
    """One compile step: the revisions (from_revision, to_revision] and per-node deltas."""

    from_revision: int
    to_revision: int
    deltas: dict[str, NodeDelta]


def intent_of(row: StoredObject, attached: Attachments | None = None) -> IntentObject[Any] | None:
    info = BY_KIND.get(row.kind)
    if info is None:
        return None
    try:
        obj = to_intent(info, row)
    except ValueError:  # stored before a schema change made it invalid: skip, don't crash
        log.exception("stored %s %s/%s no longer validates", row.kind, row.namespace, row.name)
        return None
    return with_attachment(obj, attached) if attached is not None and row.kind == "Pod" else obj


def with_attachment(pod: IntentObject[Any], attached: Attachments) -> IntentObject[Any]:
    """A Pod without spec.interface takes the interface (and, without spec.podIPs, the IPs)
    that its node's agent reported for it (switchyard-cni)."""
    spec = pod.spec
    found = effective(attached.get((pod.namespace, pod.name)), spec.nodeName)
    if found is None or spec.interface:
        return pod
    update: dict[str, Any] = {"interface": found.interface}
    if not spec.podIPs and found.ips:
        update["podIPs"] = list(found.ips[:2])
    return dataclasses.replace(pod, spec=spec.model_copy(update=update))


class CompiledState:
    def __init__(self, store: IntentStore, history: int = HISTORY_BATCHES) -> None:
        self.store = store
        self.compiler = Compiler()
        self.revision = 0
        self._history: deque[Batch] = deque(maxlen=history)
        self._floor = 0  # deltas can be computed from revisions >= this

    def load(self) -> dict[str, NodeDelta]:
        """Compile everything stored. The revision is read first: changes that land while the
        objects are read are compiled again by the next catch_up, which is harmless."""
        revision = self.store.current_revision()
        attached = attachments_by_pod(self.store)
        changes = [
            IntentChange(obj.ref, obj)
            for obj in (intent_of(row, attached) for row in self.store.all_objects())
            if obj is not None
        ]
        deltas = self.compiler.apply(changes)
        self.revision = revision
        self._floor = revision
        self._history.clear()
        return deltas

    def catch_up(self, limit: int = 5000) -> Batch | None:
        """Compile the changes committed after self.revision; None when there are none."""
        rows = self.store.changes_after(self.revision, limit)
        if not rows:
            return None
        refs = list(dict.fromkeys(ObjectRef(r.kind, r.namespace, r.name) for r in rows))
        current = self.store.get_many([(r.kind, r.namespace, r.name) for r in refs])
        attached = attachments_by_pod(
            self.store, {(r.namespace, r.name) for r in refs if r.kind == "Pod"}
        )
        changes = [
            IntentChange(
                ref, self._intent(current.get((ref.kind, ref.namespace, ref.name)), attached)
            )
            for ref in refs
        ]
        deltas = self.compiler.apply(changes)
        batch = Batch(self.revision, rows[-1].revision, deltas)
        if len(self._history) == self._history.maxlen:
            self._floor = self._history[0].to_revision
        self._history.append(batch)
        self.revision = batch.to_revision
        return batch

    @staticmethod
    def _intent(row: StoredObject | None, attached: Attachments) -> IntentObject[Any] | None:
        return intent_of(row, attached) if row is not None else None

    def node_config(self, node: str) -> NodeConfig:
        return self.compiler.node_config(node)

    def node_layers(self, node: str) -> tuple[Mapping[str, NodeObject], Mapping[str, NodeObject]]:
        return self.compiler.node_layers(node)

    def nodes(self) -> frozenset[str]:
        return self.compiler.nodes

    def errors(self) -> list[CompileError]:
        return self.compiler.errors()

    def delta_since(self, node: str, revision: int) -> NodeDelta | None:
        """What changed for `node` after `revision`, as upserts of current values and removals;
        None when this replica's history does not reach back that far (send a snapshot)."""
        if revision < self._floor or revision > self.revision:
            return None
        changed: set[str] = set()
        for batch in self._history:
            if batch.to_revision > revision:
                delta = batch.deltas.get(node)
                if delta is not None:
                    changed.update(delta.upserts)
                    changed.update(delta.removals)
        own, shared = self.node_layers(node)
        upserts: dict[str, NodeObject] = {}
        for key in changed:
            value = own.get(key) or shared.get(key)
            if value is not None:
                upserts[key] = value
        removals = frozenset(changed - upserts.keys())
        return NodeDelta(node, upserts, removals)


def merge_deltas(node: str, deltas: Iterable[NodeDelta]) -> NodeDelta:
    """Several consecutive deltas as one (later ones win)."""
    upserts: dict[str, NodeObject] = {}
    removals: set[str] = set()
    for delta in deltas:
        for key in delta.removals:
            upserts.pop(key, None)
            removals.add(key)
        for key, value in delta.upserts.items():
            removals.discard(key)
            upserts[key] = value
    return NodeDelta(node, upserts, frozenset(removals))
