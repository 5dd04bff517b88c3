"""The core compiler part: services, load balancers, BGP and node basics, as one
CompilerPart sharing one index, one claim registry and one output store.

apply() only stores the change and marks the recompute units it touches (dependency rules
below); drain() recomputes each dirty unit once, however many changes hit it in the batch, and
lets the Emitter diff the unit's output against its previous one.

Units (see emitter.Owner): ("fe", ns, svc, "") frontends of a service; ("np", ns, svc, node)
its node ports on one node; ("bgpsvc", ns, svc, "") its BGP announcements; ("lb", "", lb, "")
everything a LoadBalancer implies; ("snat" | "uplink" | "routes" | "bgpnode", "", node, "")
per node; ("podif", ns, pod, "") a pod's interface.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import cast

from switchyard_contract.nodeconfig import NodeObject

from .bgp import bgp_node_unit, bgp_service_unit
from .claims import Claimant, Claims, lb_claimant, service_claimant
from .emitter import Emitter, Output, Owner
from .index import ClusterIndex, LoadBalancer, Node, NsName, Pod, Service, has_node_ports
from .load_balancers import lb_claims, load_balancer_unit
from .node_base import (
    exclude_prefixes,
    pod_interface_unit,
    routes_unit,
    snat_unit,
    uplink_unit,
)
from .part import IntentChange, PartDelta
from .problems import CompileError
from .services import ViewCache, node_port_frontends, service_claims, service_frontends

_NODE_UNITS = ("snat", "uplink", "routes", "bgpnode")


class CoreCompiler:
    kinds = frozenset({"Node", "Pod", "Service", "EndpointSlice", "LoadBalancer", "BgpPeer"})
    # Emits objects identical on every node under emitter.GLOBAL; the engine fans them out.
    has_global_scope = True

    def __init__(self) -> None:
        self.index = ClusterIndex()
        self._claims = Claims()
        self._emitter = Emitter()
        self._dirty: set[Owner] = set()
        self._excluded: tuple[str, ...] = ()
        self._excluded_stale = False

    # -- dependency rules -------------------------------------------------------------------

    def apply(self, change: IntentChange) -> None:
        old = self.index.apply(change)
        kind, ns, name = change.ref.kind, change.ref.namespace, change.ref.name
        new = change.new
        if kind == "Node":
            self._node(name, cast("Node | None", old), cast("Node | None", new))
        elif kind == "Pod":
            self._pod((ns, name), cast("Pod | None", old), cast("Pod | None", new))
        elif kind == "Service":
            self._service((ns, name), cast("Service | None", old), cast("Service | None", new))
        elif kind == "EndpointSlice":
            self._endpoints_changed((ns, name))
        elif kind == "LoadBalancer":
            self._lb(name)
        elif kind == "BgpPeer":
            self._dirty.update(("bgpnode", "", node, "") for node in self.index.nodes)

    def _node(self, name: str, old: Node | None, new: Node | None) -> None:
        self._dirty.update((unit, "", name, "") for unit in _NODE_UNITS)
        o, n = (old.spec if old else None), (new.spec if new else None)
        exists_changed = (o is None) != (n is None)
        addresses_changed = exists_changed or (
            o is not None and n is not None and o.addresses != n.addresses
        )
        cidrs_changed = exists_changed or (
            o is not None and n is not None and o.podCIDRs != n.podCIDRs
        )
        bgp_changed = exists_changed or (o is not None and n is not None and o.bgp != n.bgp)
        if cidrs_changed:
            self._excluded_stale = True
        if addresses_changed or cidrs_changed:
            self._dirty.update(("routes", "", node, "") for node in self.index.nodes)
        if addresses_changed:
            self._dirty.update(("np", s[0], s[1], name) for s in self.index.node_port_services)
        if addresses_changed or bgp_changed:
            self._dirty.update(("bgpsvc", s[0], s[1], "") for s in self.index.announced_services)
        # Labels, addresses and LB settings all feed LB and backend node selection.
        self._dirty.update(("lb", "", lb, "") for lb in self.index.lbs)

    def _pod(self, key: NsName, old: Pod | None, new: Pod | None) -> None:
        self._dirty.add(("podif", key[0], key[1], ""))
        # Services read a pod only for named target ports and as the endpoint's node fallback;
        # a label change (the common case) costs nothing here.
        if (
            old is None
            or new is None
            or (old.spec.ports != new.spec.ports or old.spec.nodeName != new.spec.nodeName)
        ):
            for service in self.index.services_by_pod.get(key, ()):
                self._endpoints_changed(service)

    def _endpoints_changed(self, key: NsName) -> None:
        self._dirty.add(("fe", key[0], key[1], ""))
        if key in self.index.node_port_services:
            self._dirty.update(("np", key[0], key[1], node) for node in self.index.nodes)
        service = self.index.services.get(key)
        if service is not None and service.spec.externalTrafficPolicy == "Local":
            self._dirty.add(("bgpsvc", key[0], key[1], ""))
        self._dirty.update(("lb", "", lb, "") for lb in self.index.lbs_by_service.get(key, ()))

    def _service(self, key: NsName, old: Service | None, new: Service | None) -> None:
        claimant = service_claimant(key)
        for other in self._claims.set(claimant, service_claims(new), key):
            self._claimant_changed(other)
        self._dirty.add(("fe", key[0], key[1], ""))
        self._dirty.add(("bgpsvc", key[0], key[1], ""))
        if has_node_ports(old) or has_node_ports(new):
            self._dirty.update(("np", key[0], key[1], node) for node in self.index.nodes)
        for lb in self.index.lbs_by_service.get(key, ()):
            self._lb(lb)
        if (old.spec.clusterIPs if old else None) != (new.spec.clusterIPs if new else None):
            self._excluded_stale = True

    def _lb(self, name: str) -> None:
        lb: LoadBalancer | None = self.index.lbs.get(name)
        service = lb.spec.backends.service if lb is not None else None
        backing = (service.namespace, service.name) if service is not None else None
        for other in self._claims.set(lb_claimant(name), lb_claims(self.index, lb), backing):
            self._claimant_changed(other)
        self._dirty.add(("lb", "", name, ""))

    def _claimant_changed(self, claimant: Claimant) -> None:
        if claimant[0] == 1:
            self._dirty.add(("lb", "", claimant[2], ""))
            return
        key = (claimant[1], claimant[2])
        self._dirty.add(("fe", key[0], key[1], ""))
        if key in self.index.node_port_services:
            self._dirty.update(("np", key[0], key[1], node) for node in self.index.nodes)

    # -- recompute --------------------------------------------------------------------------

    def drain(self) -> dict[str, PartDelta]:
        if self._excluded_stale:
            self._excluded_stale = False
            excluded = exclude_prefixes(self.index.pod_cidrs, self.index.cluster_ips)
            if excluded != self._excluded:
                self._excluded = excluded
                self._dirty.update(("snat", "", node, "") for node in self.index.nodes)
        views = ViewCache(self.index)
        for owner in self._dirty:
            self._emitter.set_owner(owner, self._compute(owner, views))
        self._dirty = set()
        return self._emitter.drain()

    def _compute(self, owner: Owner, views: ViewCache) -> Output:
        unit, ns, name, node = owner
        ix = self.index
        if unit == "fe":
            return service_frontends(views, self._claims, (ns, name))
        if unit == "np":
            return node_port_frontends(ix, views, self._claims, (ns, name), node)
        if unit == "bgpsvc":
            return bgp_service_unit(ix, views, (ns, name))
        if unit == "lb":
            return load_balancer_unit(ix, views, self._claims, name)
        if unit == "podif":
            return pod_interface_unit(ix, (ns, name))
        if unit == "snat":
            return snat_unit(ix, name, self._excluded)
        if unit == "uplink":
            return uplink_unit(ix, name)
        if unit == "routes":
            return routes_unit(ix, name)
        if unit == "bgpnode":
            return bgp_node_unit(ix, name)
        raise AssertionError(f"unknown unit {unit}")

    def objects(self, node: str) -> Mapping[str, NodeObject]:
        return self._emitter.objects(node)

    def service_at(self, protocol: str, address: str, port: int) -> NsName | None:
        """The service that owns a service address (or, with address "", a node port)."""
        key = (f"nodePort/{protocol}", "", port) if not address else (protocol, address, port)
        holders = [c for c in self._claims.holders(key) if c[0] == 0]
        return (holders[0][1], holders[0][2]) if holders else None

    def scopes(self) -> Iterable[str]:
        """The scopes (node names and GLOBAL) that hold objects."""
        return self._emitter.scopes()

    def errors(self) -> list[CompileError]:
        return [*self._emitter.errors(), *self._claims.errors()]
