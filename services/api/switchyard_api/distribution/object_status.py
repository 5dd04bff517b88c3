"""Which intent object a failure belongs to, and the status of intent objects.

A node counts as having applied an object only when it processed the object's resourceVersion
and nothing says it did not apply it: no NACKed key compiled from it (or, for keys whose owner
the compiler does not record, that may have been compiled from it: see provenance.py), no
NACK of the whole revision, and no dataplane down that renders objects of its kind. Every node
held back for one of those reasons is listed in `notAppliedNodes` with the reason.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from switchyard_contract.nodeconfig import LbVip, NodeObject, ServiceFrontend

from ..compiler.problems import CompileError
from ..resources.node import NodeStatus
from ..store.attachments import Attached, effective
from ..store.models import StoredObject
from .intent_state import CompiledState
from .provenance import affected_by_dataplane, sources_of_key

Owner = tuple[str, str, str]  # kind, namespace, name
Problems = dict[Owner, list[dict[str, str]]]
# node -> (key, message) of NACKed keys whose owner is not recorded
Unattributed = dict[str, list[tuple[str, str]]]


def owners_of(obj: NodeObject) -> list[Owner]:
    """The intent objects a dataplane object was compiled from (as far as it records them)."""
    if isinstance(obj, ServiceFrontend) and obj.service:
        namespace, _, name = obj.service.partition("/")
        return [("Service", namespace, name), ("EndpointSlice", namespace, name)]
    if isinstance(obj, LbVip) and obj.load_balancer:
        return [("LoadBalancer", "", obj.load_balancer)]
    return []


@dataclass(frozen=True)
class _NodeView:
    name: str
    applied: int
    held_back: str  # why nothing of the applied revision counts ("" when it may)
    down: dict[str, frozenset[str]]  # dataplane down -> the intent kinds it leaves unapplied
    unattributed: list[tuple[str, str]] = field(default_factory=list)


def _node_view(row: StoredObject, unattributed: Unattributed) -> _NodeView:
    reported = NodeStatus.model_validate(row.status or {})
    held_back = ""
    applied = reported.appliedRevision or 0
    if applied and not reported.acked and not reported.errors:
        # A NACK of the whole revision, or no answer yet on this stream.
        held_back = f"no ACK for revision {applied}"
        if reported.lastError:
            held_back += f": {reported.lastError}"
    down = {plane: affected_by_dataplane(plane) for plane in reported.dataplanesDown}
    return _NodeView(row.name, applied, held_back, down, unattributed.get(row.name, []))


class ObjectStatusView:
    """Built once per request from the nodes' reported status and this replica's compiled
    state; answers the status of any number of objects."""

    def __init__(
        self,
        nodes: list[StoredObject],
        failures: Problems,
        compile_errors: Problems,
        unattributed: Unattributed | None = None,
        attachments: Mapping[tuple[str, str], list[Attached]] | None = None,
    ) -> None:
        self.nodes = [_node_view(row, unattributed or {}) for row in nodes]
        self.failures = failures
        self.compile_errors = compile_errors
        self.attachments = attachments or {}

    def status_of(self, row: StoredObject) -> dict[str, Any]:
        owner = (row.kind, row.namespace, row.name)
        failures = self.failures.get(owner, [])
        failed_on = {failure["node"]: failure for failure in failures}
        applied = 0
        held: list[dict[str, str]] = []
        for node in self.nodes:
            if node.applied < row.resource_version:
                continue  # not there yet: lagging, not failing
            reason = self._reason(node, row.kind, failed_on.get(node.name))
            if reason:
                held.append({"node": node.name, "reason": reason})
            else:
                applied += 1
        return {
            "appliedNodes": applied,
            "totalNodes": len(self.nodes),
            "failures": failures,
            "compileErrors": self.compile_errors.get(owner, []),
            "notAppliedNodes": held,
            **self._attachment(row),
        }

    @staticmethod
    def _reason(node: _NodeView, kind: str, failure: dict[str, str] | None) -> str:
        down = sorted(plane for plane, kinds in node.down.items() if kind in kinds)
        if down:
            return f"dataplane {', '.join(down)} disconnected"
        if node.held_back:
            return node.held_back
        if failure is not None:
            return f"NACKed {failure['key']}: {failure['message']}"
        for key, message in node.unattributed:
            if kind in sources_of_key(key):
                return f"NACKed {key}: {message}"
        return ""

    def _attachment(self, row: StoredObject) -> dict[str, Any]:
        if row.kind != "Pod":
            return {}
        found = effective(self.attachments.get((row.namespace, row.name)), row.spec["nodeName"])
        if found is None:
            return {}
        attachment = {
            "node": found.node,
            "containerID": found.container_id,
            "interface": found.interface,
            "ips": list(found.ips),
            "mode": found.mode,
        }
        return {"attachment": attachment}


def attribute(
    state: CompiledState | None, nodes: list[StoredObject]
) -> tuple[Problems, Problems, Unattributed]:
    """Run on the compiler's worker thread: the NACKed keys of every node, by owning object
    (and, per node, those whose owner is not recorded), and the compile errors by object."""
    failures: Problems = defaultdict(list)
    errors: Problems = defaultdict(list)
    unattributed: Unattributed = defaultdict(list)
    for row in nodes:
        reported = NodeStatus.model_validate(row.status or {})
        if not reported.errors:
            continue
        own, shared = state.node_layers(row.name) if state is not None else ({}, {})
        for error in reported.errors:
            obj = own.get(error.key) or shared.get(error.key)
            owners = owners_of(obj) if obj is not None else []
            for owner in owners:
                failures[owner].append(
                    {"node": row.name, "key": error.key, "message": error.message}
                )
            if not owners:
                unattributed[row.name].append((error.key, error.message))
    if state is None:
        return failures, errors, unattributed
    problem: CompileError
    for problem in state.errors():
        ref = problem.ref
        errors[(ref.kind, ref.namespace, ref.name)].append(
            {"node": problem.node, "message": problem.message}
        )
    return failures, errors, unattributed
