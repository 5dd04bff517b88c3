"""The external L3 load balancer (VPP lb plugin): LbGlobal and LbVip on LB nodes, GRE
decapsulation tunnels and VIP frontends on backend nodes, VIP announcements. One "lb" unit per
LoadBalancer: every object it implies, on every node.

Rules where the issue left a choice:
- LB nodes are the nodes matching lbNodeSelector. Each gets LbGlobal (identical from every LB,
  so shared) and the LbVip; an LB node without an encap source of the needed family gets no
  VIP and a CompileError.
- gre4/gre6 servers are backend nodes (backends.nodeSelector, or every node), addressed by
  their first address of the encap family (none: CompileError naming LB and node). With
  backends.service, only nodes that can actually serve the VIP are servers: every candidate
  node while the service has a live endpoint anywhere (externalTrafficPolicy Cluster), or
  only candidates with a live local endpoint (Local). Each server node gets a GreTunnel to
  each LB node's source address and a loadBalancerIP frontend for every matching service port
  (the port equal to the LB port and protocol; every port with protocol Any).
- l3dsr servers are the service's endpoint addresses of the VIP family, weighted like
  frontend backends (ready 1, terminating 0, KEP-1669 fallback).
- The VIP is announced over BGP from every LB node with BGP when advertise.enabled, even
  without servers (the lb plugin then drops, which is the VIP's correct answer).
"""

from __future__ import annotations

from ipaddress import ip_network

from switchyard_contract.nodeconfig import BgpAnnouncement, GreTunnel, LbGlobal, LbServer, LbVip

from ..resources.load_balancer import LoadBalancerSpec
from ..resources.service import ServicePort
from .backends import select
from .claims import ClaimKey, Claims, lb_claimant
from .emitter import Output
from .index import ClusterIndex, LoadBalancer, Node, NsName, labels_of
from .services import ServiceView, ViewCache, family


def first_address(node: Node, fam: int) -> str | None:
    return next((a for a in node.spec.addresses if family(a) == fam), None)


def lb_source(node: Node, fam: int) -> str | None:
    conf = node.spec.loadBalancer
    configured = conf.ip4SourceAddress if fam == 4 else conf.ip6SourceAddress
    return configured or first_address(node, fam)


def lb_global(node: Node) -> LbGlobal:
    conf = node.spec.loadBalancer
    return LbGlobal(
        ip4_src=lb_source(node, 4),
        ip6_src=lb_source(node, 6),
        sticky_buckets_per_core=conf.stickyBucketsPerCore,
        flow_timeout=conf.flowTimeoutSeconds,
    )


def vip_host(spec: LoadBalancerSpec) -> str | None:
    """The VIP as one address when it is a host prefix (/32, /128), else None."""
    network = ip_network(spec.vip)
    return str(network.network_address) if network.num_addresses == 1 else None


def matching_ports(
    spec: LoadBalancerSpec, ports: list[ServicePort]
) -> list[tuple[int, ServicePort]]:
    return [
        (i, p)
        for i, p in enumerate(ports)
        if spec.protocol == "Any" or (p.protocol == spec.protocol and p.port == spec.port)
    ]


def service_key(spec: LoadBalancerSpec) -> NsName | None:
    ref = spec.backends.service
    return None if ref is None else (ref.namespace, ref.name)


def lb_claims(index: ClusterIndex, lb: LoadBalancer | None) -> frozenset[ClaimKey]:
    """Frontend addresses a GRE load balancer with a service backend provides."""
    if lb is None or lb.spec.encap == "l3dsr":
        return frozenset()
    key, vip = service_key(lb.spec), vip_host(lb.spec)
    service = index.services.get(key) if key is not None else None
    if service is None or vip is None:
        return frozenset()
    return frozenset(
        (p.protocol, vip, p.port) for _, p in matching_ports(lb.spec, service.spec.ports)
    )


def _serves(view: ServiceView, ports: list[tuple[int, ServicePort]], fam: int, node: str) -> bool:
    local = view.service.spec.externalTrafficPolicy == "Local"
    return any(view.backends(i, fam, node if local else None) for i, _ in ports)


def load_balancer_unit(index: ClusterIndex, views: ViewCache, claims: Claims, name: str) -> Output:
    out = Output()
    lb = index.lbs.get(name)
    if lb is None:
        return out
    spec, ref = lb.spec, lb.ref
    fam = spec.encap_family() or spec.vip_family()
    vip_fam = spec.vip_family()
    nodes = index.sorted_nodes()
    servers: list[LbServer] = []
    server_nodes: list[tuple[Node, str]] = []  # GRE backend nodes and their encap address
    view: ServiceView | None = None
    ports: list[tuple[int, ServicePort]] = []
    skey = service_key(spec)
    if skey is not None:
        view = views.view(skey)
        if view is None:
            out.error(ref, f"backends.service {skey[0]}/{skey[1]} does not exist")
        else:
            ports = matching_ports(spec, view.service.spec.ports)
            if not ports and spec.encap != "l3dsr":
                out.error(ref, f"service {view.name} has no {spec.protocol} port {spec.port}")

    if spec.backends.addresses is not None:
        servers = [LbServer(a) for a in spec.backends.addresses]
    elif spec.encap == "l3dsr":
        if view is not None:
            servers = [LbServer(b.address, b.weight) for b in select(view.endpoints, None, vip_fam)]
    else:
        selector = spec.backends.nodeSelector
        for node in nodes:
            if selector is not None and not selector.matches(labels_of(node)):
                continue
            if view is not None and not _serves(view, ports, vip_fam, node.name):
                continue
            if skey is not None and view is None:
                continue
            address = first_address(node, fam)
            if address is None:
                out.error(
                    ref,
                    f"backend node {node.name} has no IPv{fam} address for {spec.encap}",
                    node.name,
                )
                continue
            servers.append(LbServer(address))
            server_nodes.append((node, address))
    servers.sort(key=lambda s: s.address)

    vip = LbVip(
        prefix=spec.vip,
        protocol=spec.protocol,
        port=spec.port,
        encap=spec.encap,
        dscp=spec.dscp,
        new_flows_table_length=spec.newFlowsTableLength,
        servers=tuple(servers),
        load_balancer=name,
    )
    communities = tuple(sorted(set(spec.advertise.communities)))
    sources: list[str] = []
    for node in nodes:
        if not spec.lbNodeSelector.matches(labels_of(node)):
            continue
        source = lb_source(node, fam)
        if source is None:
            out.error(ref, f"LB node {node.name} has no IPv{fam} encap source address", node.name)
            continue
        sources.append(source)
        out.put(node.name, lb_global(node))
        out.put(node.name, vip)
        if spec.advertise.enabled and node.spec.bgp is not None:
            next_hop = first_address(node, vip_fam)
            if next_hop is None:
                out.error(ref, f"LB node {node.name} has no IPv{vip_fam} BGP next hop", node.name)
            else:
                out.put(node.name, BgpAnnouncement(spec.vip, next_hop, communities))

    vip_address = vip_host(spec)
    if server_nodes and view is not None and vip_address is None:
        out.error(ref, "a VIP frontend for backends.service needs a host VIP (/32 or /128)")
    me = lb_claimant(name)
    local = view is not None and view.service.spec.externalTrafficPolicy == "Local"
    for node, address in server_nodes:
        for source in sources:
            if source != address:
                out.put(node.name, GreTunnel(local=address, remote=source))
        if view is None or vip_address is None:
            continue
        for index_, port in ports:
            if not claims.wins(me, (port.protocol, vip_address, port.port)):
                continue
            backends = view.backends(index_, vip_fam, node.name if local else None)
            if backends:
                frontend = view.frontend(
                    port, vip_address, port.port, "loadBalancerIP", backends, local
                )
                out.put(node.name, frontend)
    return out
