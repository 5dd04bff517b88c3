"""Current intent of the kinds the core compiler reads, with the reverse indexes that keep one
change's work proportional to what it touches."""

from __future__ import annotations

from collections import Counter
from typing import Any, cast

from ..resources.bgp_peer import BgpPeerSpec
from ..resources.endpoints import EndpointsSpec
from ..resources.intent import IntentObject
from ..resources.load_balancer import LoadBalancerSpec
from ..resources.node import NodeSpec
from ..resources.pod import PodSpec
from ..resources.service import ServiceSpec
from .part import IntentChange

NsName = tuple[str, str]

Node = IntentObject[NodeSpec]
Pod = IntentObject[PodSpec]
Service = IntentObject[ServiceSpec]
Slice = IntentObject[EndpointsSpec]
LoadBalancer = IntentObject[LoadBalancerSpec]
Peer = IntentObject[BgpPeerSpec]


def pod_refs(slice_: Slice) -> set[NsName]:
    """Pods an EndpointSlice points at (targetRef namespace defaults to the slice's)."""
    refs: set[NsName] = set()
    for endpoint in slice_.spec.endpoints:
        ref = endpoint.targetRef
        if ref is not None:
            refs.add((ref.namespace or slice_.namespace, ref.name))
    return refs


def has_node_ports(service: Service | None) -> bool:
    return service is not None and any(p.nodePort for p in service.spec.ports)


def announced_ips(service: Service | None) -> list[str]:
    if service is None:
        return []
    return [*service.spec.externalIPs, *service.spec.loadBalancerIPs]


class ClusterIndex:
    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {}
        self.pods: dict[NsName, Pod] = {}
        self.services: dict[NsName, Service] = {}
        self.slices: dict[NsName, Slice] = {}
        self.lbs: dict[str, LoadBalancer] = {}
        self.peers: dict[str, Peer] = {}
        # Reverse indexes.
        self.services_by_pod: dict[NsName, set[NsName]] = {}
        self.lbs_by_service: dict[NsName, set[str]] = {}
        self.node_port_services: set[NsName] = set()
        self.announced_services: set[NsName] = set()
        self.cluster_ips: Counter[str] = Counter()
        self.pod_cidrs: Counter[str] = Counter()

    def get(self, kind: str, namespace: str, name: str) -> IntentObject[Any] | None:
        if kind == "Node":
            return self.nodes.get(name)
        if kind == "LoadBalancer":
            return self.lbs.get(name)
        if kind == "BgpPeer":
            return self.peers.get(name)
        tables: dict[str, dict[NsName, Any]] = {
            "Pod": self.pods,
            "Service": self.services,
            "EndpointSlice": self.slices,
        }
        table = tables.get(kind)
        return None if table is None else table.get((namespace, name))

    def apply(self, change: IntentChange) -> IntentObject[Any] | None:
        """Store the change; returns the previous object."""
        ref, new = change.ref, change.new
        key = (ref.namespace, ref.name)
        old = self.get(ref.kind, ref.namespace, ref.name)
        if ref.kind == "Node":
            self._node(ref.name, cast("Node | None", old), cast("Node | None", new))
        elif ref.kind == "Pod":
            _put(self.pods, key, new)
        elif ref.kind == "Service":
            self._service(key, cast("Service | None", old), cast("Service | None", new))
        elif ref.kind == "EndpointSlice":
            self._slice(key, cast("Slice | None", old), cast("Slice | None", new))
        elif ref.kind == "LoadBalancer":
            self._lb(ref.name, cast("LoadBalancer | None", old), cast("LoadBalancer | None", new))
        elif ref.kind == "BgpPeer":
            _put(self.peers, ref.name, new)
        return old

    def _node(self, name: str, old: Node | None, new: Node | None) -> None:
        _count(self.pod_cidrs, old.spec.podCIDRs if old else [], new.spec.podCIDRs if new else [])
        _put(self.nodes, name, new)

    def _service(self, key: NsName, old: Service | None, new: Service | None) -> None:
        _count(
            self.cluster_ips, old.spec.clusterIPs if old else [], new.spec.clusterIPs if new else []
        )
        _toggle(self.node_port_services, key, has_node_ports(new))
        _toggle(self.announced_services, key, bool(announced_ips(new)))
        _put(self.services, key, new)

    def _slice(self, key: NsName, old: Slice | None, new: Slice | None) -> None:
        before = pod_refs(old) if old is not None else set()
        after = pod_refs(new) if new is not None else set()
        for pod in before - after:
            users = self.services_by_pod[pod]
            users.discard(key)
            if not users:
                del self.services_by_pod[pod]
        for pod in after - before:
            self.services_by_pod.setdefault(pod, set()).add(key)
        _put(self.slices, key, new)

    def _lb(self, name: str, old: LoadBalancer | None, new: LoadBalancer | None) -> None:
        for lb, add in ((old, False), (new, True)):
            service = lb.spec.backends.service if lb is not None else None
            if service is None:
                continue
            skey = (service.namespace, service.name)
            users = self.lbs_by_service.setdefault(skey, set())
            if add:
                users.add(name)
            else:
                users.discard(name)
                if not users:
                    del self.lbs_by_service[skey]
        _put(self.lbs, name, new)

    def sorted_nodes(self) -> list[Node]:
        return [self.nodes[name] for name in sorted(self.nodes)]


def labels_of(obj: IntentObject[Any]) -> dict[str, str]:
    """LabelSelector.matches wants a dict; IntentObject.labels is a Mapping (a dict in
    practice, so no copy)."""
    labels = obj.labels
    return labels if isinstance(labels, dict) else dict(labels)


def _put(table: dict[Any, Any], key: Any, value: Any) -> None:
    if value is None:
        table.pop(key, None)
    else:
        table[key] = value


def _toggle(members: set[NsName], key: NsName, present: bool) -> None:
    if present:
        members.add(key)
    else:
        members.discard(key)


def _count(counter: Counter[str], removed: list[str], added: list[str]) -> None:
    """Multiset update that drops zero counts (so `counter.keys()` is the live set)."""
    for value in removed:
        counter[value] -= 1
        if not counter[value]:
            del counter[value]
    counter.update(added)
