"""Which intent object a failure belongs to, and the status of intent objects."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from switchyard_contract.nodeconfig import LbVip, NodeObject, ServiceFrontend

from ..compiler.problems import CompileError
from ..resources.node import NodeStatus
from ..store.attachments import Attached, effective
from ..store.models import StoredObject
from .intent_state import CompiledState

Owner = tuple[str, str, str]  # kind, namespace, name


def owners_of(obj: NodeObject) -> list[Owner]:
    """The intent objects a dataplane object was compiled from (as far as it records them)."""
    if isinstance(obj, ServiceFrontend) and obj.service:
        namespace, _, name = obj.service.partition("/")
        return [("Service", namespace, name), ("EndpointSlice", namespace, name)]
    if isinstance(obj, LbVip) and obj.load_balancer:
        return [("LoadBalancer", "", obj.load_balancer)]
    return []


class ObjectStatusView:
    """Built once per request from the nodes' reported status and this replica's compiled
    state; answers the status of any number of objects."""

    def __init__(
        self,
        nodes: list[StoredObject],
        failures: dict[Owner, list[dict[str, str]]],
        compile_errors: dict[Owner, list[dict[str, str]]],
        attachments: Mapping[tuple[str, str], list[Attached]] | None = None,
    ) -> None:
        self.applied = sorted(
            NodeStatus.model_validate(row.status or {}).appliedRevision or 0 for row in nodes
        )
        self.failures = failures
        self.compile_errors = compile_errors
        self.attachments = attachments or {}

    def status_of(self, row: StoredObject) -> dict[str, Any]:
        owner = (row.kind, row.namespace, row.name)
        applied = sum(1 for revision in self.applied if revision >= row.resource_version)
        return {
            "appliedNodes": applied,
            "totalNodes": len(self.applied),
            "failures": self.failures.get(owner, []),
            "compileErrors": self.compile_errors.get(owner, []),
            **self._attachment(row),
        }

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
) -> tuple[dict[Owner, list[dict[str, str]]], dict[Owner, list[dict[str, str]]]]:
    """Run on the compiler's worker thread: the NACKed keys of every node, by owning object,
    and the compile errors by object."""
    failures: dict[Owner, list[dict[str, str]]] = defaultdict(list)
    errors: dict[Owner, list[dict[str, str]]] = defaultdict(list)
    if state is None:
        return failures, errors
    for row in nodes:
        reported = NodeStatus.model_validate(row.status or {})
        if not reported.errors:
            continue
        own, shared = state.node_layers(row.name)
        for error in reported.errors:
            obj = own.get(error.key) or shared.get(error.key)
            for owner in owners_of(obj) if obj is not None else []:
                failures[owner].append(
                    {"node": row.name, "key": error.key, "message": error.message}
                )
    problem: CompileError
    for problem in state.errors():
        ref = problem.ref
        errors[(ref.kind, ref.namespace, ref.name)].append(
            {"node": problem.node, "message": problem.message}
        )
    return failures, errors
