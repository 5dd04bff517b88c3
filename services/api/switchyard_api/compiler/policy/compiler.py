"""PolicyCompiler: NetworkPolicy intent -> per-node ACLs and ACL bindings, incrementally.

apply() only updates the selection indexes and marks pods dirty; the ACLs of dirty pods are
recomputed lazily (at drain/objects/errors), once per batch, with the ACL of one effective
policy computed once and shared by every pod that has it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from switchyard_contract.nodeconfig import Acl, AclBinding, NodeObject

from ...resources.intent import IntentObject, ObjectRef
from ...resources.network_policy import NetworkPolicySpec
from ...resources.node import NodeSpec
from ...resources.pod import PodSpec
from ..part import IntentChange, PartDelta
from ..problems import CompileError
from .acl import PERMIT_ALL_ACL, REFLECT_ALL_ACL, isolating_acl, self_acls
from .model import PodInfo, PodKey, normal_ip
from .placement import UPLINK, Attachment, Claimant, NodePlacement
from .provenance import DirectionProvenance, PodProvenance, SourcedRules
from .rules import egress_rules, ingress_rules
from .selection import Selection


def _claimant(pod: PodKey) -> Claimant:
    return ("1", f"{pod[0]}/{pod[1]}")


class PolicyCompiler:
    kinds: frozenset[str] = frozenset({"Namespace", "Node", "Pod", "NetworkPolicy"})

    def __init__(self) -> None:
        self._selection = Selection()
        self._nodes: dict[str, NodeSpec] = {}
        self._placements: dict[str, NodePlacement] = {}
        self._pod_claims: dict[PodKey, tuple[str, str]] = {}  # pod -> (node, interface)
        self._pod_errors: dict[PodKey, CompileError] = {}
        self._policy_errors: dict[tuple[str, str], CompileError] = {}
        self._dirty_pods: set[PodKey] = set()
        self._dirty_uplinks: set[str] = set()
        self._uplink_claims: dict[str, str] = {}  # node -> interface
        # Kept for explain only (never sent to agents): which rule produced which permit.
        self._provenance: dict[PodKey, PodProvenance] = {}
        self._pods_by_ip: dict[str, PodKey] = {}

    # -- CompilerPart ----------------------------------------------------------------------------

    def apply(self, change: IntentChange) -> None:
        ref, new = change.ref, change.new
        if ref.kind == "Namespace":
            labels = dict(new.labels) if new is not None else None
            self._dirty_pods |= self._selection.set_namespace(ref.name, labels)
        elif ref.kind == "Pod":
            info = None if new is None else _pod_info(new)
            self._index_ips((ref.namespace, ref.name), info)
            self._dirty_pods |= self._selection.set_pod((ref.namespace, ref.name), info)
        elif ref.kind == "NetworkPolicy":
            spec = None if new is None else _spec(new, NetworkPolicySpec)
            self._dirty_pods |= self._selection.set_policy((ref.namespace, ref.name), spec)
            self._policy_errors.pop((ref.namespace, ref.name), None)
            if spec is not None and _has_sctp_ports(spec):
                self._policy_errors[(ref.namespace, ref.name)] = CompileError(
                    ref,
                    "SCTP with a port: VPP's ACL plugin reads L4 ports only for TCP and UDP, "
                    "so these SCTP permits match no traffic (fail closed); omit the port to "
                    "allow SCTP",
                )
        elif ref.kind == "Node":
            self._apply_node(ref, new)

    def drain(self) -> dict[str, PartDelta]:
        self._flush()
        deltas: dict[str, PartDelta] = {}
        for node in sorted(self._placements):
            placement = self._placements[node]
            delta = placement.drain()
            if delta is not None:
                deltas[node] = delta
            if placement.is_empty():
                del self._placements[node]
        return deltas

    def objects(self, node: str) -> Mapping[str, NodeObject]:
        self._flush()
        placement = self._placements.get(node)
        return placement.snapshot() if placement is not None else {}

    def errors(self) -> list[CompileError]:
        self._flush()
        found = list(self._pod_errors.values()) + list(self._policy_errors.values())
        for node, placement in self._placements.items():
            for interface, losers in placement.conflicts.items():
                for claimant in losers:
                    what = "the node's uplink" if claimant == UPLINK else f"pod {claimant[1]}"
                    ref = (
                        ObjectRef("Node", "", node)
                        if claimant == UPLINK
                        else ObjectRef("Pod", *claimant[1].split("/", 1))
                    )
                    message = (
                        f"interface {interface!r} on node {node!r} is also claimed by "
                        f"{_describe(placement.claims[interface], claimant)}; {what} gets no "
                        "ACLs there"
                    )
                    found.append(CompileError(ref, message, node))
        return sorted(found, key=lambda e: (e.node, str(e.ref), e.message))

    # -- explain (reads of the compiler's own state) ---------------------------------------

    def pod(self, key: PodKey) -> PodInfo | None:
        return self._selection.pods.get(key)

    def pod_at(self, ip: str) -> PodInfo | None:
        key = self._pods_by_ip.get(normal_ip(ip))
        return None if key is None else self._selection.pods.get(key)

    def provenance(self, key: PodKey) -> PodProvenance | None:
        """None: no policy selects the pod (or it has no interface), so it has no binding."""
        self._flush()
        return self._provenance.get(key)

    def object_at(self, node: str, key: str) -> NodeObject | None:
        """One compiled object of a node, without copying the node's objects."""
        self._flush()
        placement = self._placements.get(node)
        return placement.objects.get(key) if placement is not None else None

    def node_addresses(self, node: str) -> tuple[str, ...]:
        spec = self._nodes.get(node)
        return tuple(spec.addresses) if spec is not None else ()

    def uplink(self, node: str) -> str:
        return self._uplink_claims.get(node, "")

    # -- internals ---------------------------------------------------------------------------

    def _index_ips(self, key: PodKey, new: PodInfo | None) -> None:
        old = self._selection.pods.get(key)
        for ip in old.ips if old is not None else ():
            if self._pods_by_ip.get(normal_ip(ip)) == key:
                del self._pods_by_ip[normal_ip(ip)]
        for ip in new.ips if new is not None else ():
            self._pods_by_ip[normal_ip(ip)] = key

    def _apply_node(self, ref: ObjectRef, new: IntentObject[Any] | None) -> None:
        old = self._nodes.pop(ref.name, None)
        spec = None if new is None else _spec(new, NodeSpec)
        if spec is not None:
            self._nodes[ref.name] = spec
        old_addresses = old.addresses if old is not None else []
        new_addresses = spec.addresses if spec is not None else []
        if old_addresses != new_addresses:  # the own-node permit of every pod there
            self._dirty_pods |= self._selection.pods_by_node.get(ref.name, set())
        self._dirty_uplinks.add(ref.name)

    def _placement(self, node: str) -> NodePlacement:
        return self._placements.setdefault(node, NodePlacement())

    def _flush(self) -> None:
        for node in sorted(self._dirty_uplinks):
            self._place_uplink(node)
        self._dirty_uplinks.clear()
        if not self._dirty_pods:
            return
        ingress_cache: dict[tuple[object, ...], Isolation] = {}
        egress_cache: dict[tuple[object, ...], Isolation] = {}
        for pod_key in sorted(self._dirty_pods):
            self._place_pod(pod_key, ingress_cache, egress_cache)
        self._dirty_pods.clear()

    def _place_uplink(self, node: str) -> None:
        spec = self._nodes.get(node)
        interface = spec.uplinkInterface if spec is not None else ""
        old = self._uplink_claims.pop(node, None)
        if old is not None and old != interface:
            self._placement(node).release(old, UPLINK)
        if interface:
            self._uplink_claims[node] = interface
            attachment = Attachment(
                AclBinding(interface, (), (PERMIT_ALL_ACL.name,)), (PERMIT_ALL_ACL,)
            )
            self._placement(node).claim(interface, UPLINK, attachment)

    def _place_pod(
        self,
        key: PodKey,
        ingress_cache: dict[tuple[object, ...], Isolation],
        egress_cache: dict[tuple[object, ...], Isolation],
    ) -> None:
        pod = self._selection.pods.get(key)
        old_claim = self._pod_claims.pop(key, None)
        self._pod_errors.pop(key, None)
        self._provenance.pop(key, None)
        new_claim = (pod.node, pod.interface) if pod is not None and pod.interface else None
        if old_claim is not None and old_claim != new_claim:
            self._placement(old_claim[0]).release(old_claim[1], _claimant(key))
        if pod is None:
            return
        ingress = self._selection.selecting(key, "Ingress")
        egress = self._selection.selecting(key, "Egress")
        if not pod.interface:
            if ingress or egress:
                names = sorted({f"{p.key[0]}/{p.key[1]}" for p in ingress + egress})
                self._pod_errors[key] = CompileError(
                    ObjectRef("Pod", *key),
                    f"selected by NetworkPolicy {', '.join(names)} but has no interface: "
                    "its isolation cannot be enforced",
                    pod.node,
                )
            return
        attachment = None
        if ingress or egress:
            out_acl, out_origin = (
                self._ingress_acl(pod, ingress, ingress_cache) if ingress else _NOT_ISOLATED
            )
            in_acl, in_origin = self._egress_acl(egress, egress_cache) if egress else _NOT_ISOLATED
            self._provenance[key] = PodProvenance(ingress=out_origin, egress=in_origin)
            inputs, outputs = [in_acl], [out_acl]
            if pod.ips:  # a pod can always reach itself, directly or through a service
                self_in, self_out = self_acls(pod.ips)
                if in_acl.name != REFLECT_ALL_ACL.name:
                    inputs.insert(0, self_in)
                if out_acl.name != REFLECT_ALL_ACL.name:
                    outputs.insert(0, self_out)
            binding = AclBinding(
                pod.interface, tuple(a.name for a in inputs), tuple(a.name for a in outputs)
            )
            attachment = Attachment(binding, tuple(dict.fromkeys([*inputs, *outputs])))
        self._pod_claims[key] = (pod.node, pod.interface)
        self._placement(pod.node).claim(pod.interface, _claimant(key), attachment)

    def _ingress_acl(
        self, pod: PodInfo, policies: list[Any], cache: dict[tuple[object, ...], Isolation]
    ) -> Isolation:
        node = self._nodes.get(pod.node)
        addresses = tuple(node.addresses) if node is not None else ()
        # Named ports resolve on the pod itself, so its ports are part of the cache key.
        cache_key = (tuple(p.key for p in policies), pod.ports, addresses)
        found = cache.get(cache_key)
        if found is None:
            sourced = ingress_rules(pod, policies, self._selection, addresses)
            found = cache[cache_key] = _isolation(policies, sourced)
        return found

    def _egress_acl(
        self, policies: list[Any], cache: dict[tuple[object, ...], Isolation]
    ) -> Isolation:
        cache_key = tuple(p.key for p in policies)
        found = cache.get(cache_key)
        if found is None:
            sourced = egress_rules(policies, self._selection)
            found = cache[cache_key] = _isolation(policies, sourced)
        return found


# One isolated (or not isolated) direction of a pod: its ACL and where its rules came from.
Isolation = tuple[Acl, DirectionProvenance]
_NOT_ISOLATED: Isolation = (REFLECT_ALL_ACL, DirectionProvenance(REFLECT_ALL_ACL.name, ()))


def _isolation(policies: list[Any], sourced: list[SourcedRules]) -> Isolation:
    acl = isolating_acl(rule for _, rules in sourced for rule in rules)
    names = tuple(f"{p.key[0]}/{p.key[1]}" for p in policies)
    return acl, DirectionProvenance(acl.name, names, tuple(sourced))


def _has_sctp_ports(spec: NetworkPolicySpec) -> bool:
    ports = [p for r in spec.ingress for p in r.ports or ()]
    ports += [p for r in spec.egress for p in r.ports or ()]
    return any(p.protocol == "SCTP" and p.port is not None for p in ports)


def _describe(claims: Mapping[Claimant, object], loser: Claimant) -> str:
    winner = sorted(claims)[0]
    return "the node's uplink" if winner == UPLINK else f"pod {winner[1]}"


def _spec(obj: IntentObject[Any], model: type[Any]) -> Any:
    """Accept a validated spec, or a plain mapping (validated here)."""
    spec = obj.spec
    return spec if isinstance(spec, model) else model.model_validate(spec)


def _pod_info(obj: IntentObject[Any]) -> PodInfo:
    spec: PodSpec = _spec(obj, PodSpec)
    return PodInfo.from_spec(obj.namespace, obj.name, obj.labels, spec)
