"""Service frontends (the cnat translations of a service).

One frontend per service port and per ClusterIP, external IP and load-balancer IP ("fe" unit,
one per service), plus one per node address and nodePort on every node ("np" unit, one per
service and node, so that a node change touches only that node's frontends).

Scope: a frontend whose backends do not depend on the node (Cluster traffic policy) is
cluster-wide: compiled once into the GLOBAL scope and shared by every node. With a Local policy
it is compiled per node that hosts endpoints of the service. Node ports are per node by nature
(the address is the node's own).
"""

from __future__ import annotations

from switchyard_contract.nodeconfig import Backend, FrontendKind, ServiceFrontend

from ..resources.service import ServicePort
from .backends import ResolvedEndpoint, resolve, select
from .claims import ClaimKey, Claims, service_claimant
from .emitter import GLOBAL, Output
from .index import ClusterIndex, NsName, Service


def family(address: str) -> int:
    return 6 if ":" in address else 4


def node_port_claim(port: ServicePort) -> ClaimKey:
    return (f"nodePort/{port.protocol}", "", port.nodePort or 0)


def service_claims(service: Service | None) -> frozenset[ClaimKey]:
    if service is None:
        return frozenset()
    spec = service.spec
    keys: set[ClaimKey] = set()
    for port in spec.ports:
        for ip in (*spec.clusterIPs, *spec.externalIPs, *spec.loadBalancerIPs):
            keys.add((port.protocol, ip, port.port))
        if port.nodePort and spec.type != "ClusterIP":
            keys.add(node_port_claim(port))
    return frozenset(keys)


class ServiceView:
    """One service's resolved endpoints, with memoised backend sets (valid for one drain)."""

    def __init__(self, service: Service, endpoints: list[ResolvedEndpoint]) -> None:
        self.service = service
        self.endpoints = endpoints
        self._by_node: dict[str, list[ResolvedEndpoint]] | None = None
        self._memo: dict[tuple[int, int, str | None], tuple[Backend, ...]] = {}

    @property
    def name(self) -> str:
        return f"{self.service.namespace}/{self.service.name}"

    def by_node(self) -> dict[str, list[ResolvedEndpoint]]:
        if self._by_node is None:
            groups: dict[str, list[ResolvedEndpoint]] = {}
            for endpoint in self.endpoints:
                if endpoint.node:
                    groups.setdefault(endpoint.node, []).append(endpoint)
            self._by_node = groups
        return self._by_node

    def backends(self, port_index: int, fam: int, node: str | None) -> tuple[Backend, ...]:
        """Cluster-wide (node None) or node-local backends of one service port."""
        memo_key = (port_index, fam, node)
        found = self._memo.get(memo_key)
        if found is None:
            pool = self.endpoints if node is None else self.by_node().get(node, [])
            found = self._memo[memo_key] = select(pool, port_index, fam)
        return found

    def frontend(
        self,
        port: ServicePort,
        address: str,
        frontend_port: int,
        kind: FrontendKind,
        backends: tuple[Backend, ...],
        local_only: bool,
    ) -> ServiceFrontend:
        return ServiceFrontend(
            address=address,
            protocol=port.protocol,
            port=frontend_port,
            kind=kind,
            backends=backends,
            affinity_timeout=self.service.spec.affinity_timeout(),
            local_only=local_only,
            service=self.name,
        )


class ViewCache:
    """Per-drain memo: several units (frontends on 50 nodes, LB VIPs) share one resolution."""

    def __init__(self, index: ClusterIndex) -> None:
        self._index = index
        self._views: dict[NsName, ServiceView | None] = {}

    def view(self, key: NsName) -> ServiceView | None:
        if key not in self._views:
            service = self._index.services.get(key)
            view = None
            if service is not None:
                slice_ = self._index.slices.get(key)
                endpoints = [] if slice_ is None else resolve(self._index, service, slice_)
                view = ServiceView(service, endpoints)
            self._views[key] = view
        return self._views[key]


def service_frontends(views: ViewCache, claims: Claims, key: NsName) -> Output:
    """The "fe" unit: ClusterIP, external IP and load-balancer IP frontends of one service."""
    out = Output()
    view = views.view(key)
    if view is None:
        return out
    spec = view.service.spec
    me = service_claimant(key)
    groups: tuple[tuple[FrontendKind, list[str], bool], ...] = (
        ("clusterIP", spec.clusterIPs, spec.internalTrafficPolicy == "Local"),
        ("externalIP", spec.externalIPs, spec.externalTrafficPolicy == "Local"),
        ("loadBalancerIP", spec.loadBalancerIPs, spec.externalTrafficPolicy == "Local"),
    )
    for index, port in enumerate(spec.ports):
        for kind, addresses, local in groups:
            for address in addresses:
                if not claims.wins(me, (port.protocol, address, port.port)):
                    continue
                fam = family(address)
                if not local:
                    backends = view.backends(index, fam, None)
                    if backends:
                        out.put(
                            GLOBAL, view.frontend(port, address, port.port, kind, backends, False)
                        )
                    continue
                for node in sorted(view.by_node()):
                    backends = view.backends(index, fam, node)
                    if backends:
                        out.put(node, view.frontend(port, address, port.port, kind, backends, True))
    return out


def node_port_frontends(
    index: ClusterIndex, views: ViewCache, claims: Claims, key: NsName, node_name: str
) -> Output:
    """The "np" unit: one service's node ports on one node's addresses."""
    out = Output()
    node = index.nodes.get(node_name)
    view = views.view(key)
    if node is None or view is None or view.service.spec.type == "ClusterIP":
        return out
    local = view.service.spec.externalTrafficPolicy == "Local"
    me = service_claimant(key)
    for port_index, port in enumerate(view.service.spec.ports):
        if not port.nodePort or not claims.wins(me, node_port_claim(port)):
            continue
        for address in node.spec.addresses:
            backends = view.backends(port_index, family(address), node_name if local else None)
            if backends:
                out.put(
                    node_name,
                    view.frontend(port, address, port.nodePort, "nodePort", backends, local),
                )
    return out
