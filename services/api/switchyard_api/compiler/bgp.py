"""BGP on nodes that have node.spec.bgp: the GoBGP global config, the peers whose selector
matches, and announcements.

Units: "bgpnode" (per node: BgpGlobal, BgpPeers, the node's pod CIDRs) and "bgpsvc" (per
service: its external and load-balancer IPs as /32 or /128 on every BGP node; with
externalTrafficPolicy Local only on BGP nodes that host a ready endpoint of the IP's family,
so upstream ECMP never sends traffic to a node that would drop it). Load-balancer VIPs are
announced by the "lb" unit (load_balancers.py). Next hop: the node's first address of the
prefix's family; none is a CompileError.
"""

from __future__ import annotations

from switchyard_contract.nodeconfig import BgpAnnouncement, BgpGlobal, BgpPeer

from .backends import has_ready
from .emitter import Output
from .index import ClusterIndex, NsName, labels_of
from .load_balancers import first_address
from .services import ViewCache, family


def host_prefix(address: str) -> str:
    return f"{address}/128" if family(address) == 6 else f"{address}/32"


def bgp_node_unit(index: ClusterIndex, name: str) -> Output:
    out = Output()
    node = index.nodes.get(name)
    if node is None or node.spec.bgp is None:
        return out
    bgp = node.spec.bgp
    out.put(name, BgpGlobal(asn=bgp.asn, router_id=bgp.routerId))
    for peer_name in sorted(index.peers):
        peer = index.peers[peer_name]
        spec = peer.spec
        if not spec.nodeSelector.matches(labels_of(node)):
            continue
        out.put(
            name,
            BgpPeer(
                address=spec.peerIP,
                asn=spec.asNumber,
                password=spec.password,
                multihop_ttl=spec.multihopTTL,
                route_reflector_client=spec.routeReflectorClient,
                hold_time=spec.holdTimeSeconds,
                keepalive=spec.keepaliveSeconds,
                families=tuple(spec.families),
            ),
        )
    for cidr in node.spec.podCIDRs:
        next_hop = first_address(node, family(cidr))
        if next_hop is None:
            out.error(node.ref, f"no IPv{family(cidr)} address to announce pod CIDR {cidr}", name)
        else:
            out.put(name, BgpAnnouncement(cidr, next_hop))
    return out


def bgp_service_unit(index: ClusterIndex, views: ViewCache, key: NsName) -> Output:
    out = Output()
    view = views.view(key)
    if view is None:
        return out
    spec = view.service.spec
    addresses = [*spec.externalIPs, *spec.loadBalancerIPs]
    if not addresses:
        return out
    local = spec.externalTrafficPolicy == "Local"
    by_node = view.by_node() if local else {}
    for node in index.sorted_nodes():
        if node.spec.bgp is None:
            continue
        for address in addresses:
            fam = family(address)
            if local and not has_ready(by_node.get(node.name, ()), fam):
                continue
            next_hop = first_address(node, fam)
            if next_hop is None:
                out.error(
                    view.service.ref,
                    f"node has no IPv{fam} next hop to announce {address}",
                    node.name,
                )
                continue
            out.put(node.name, BgpAnnouncement(host_prefix(address), next_hop))
    return out
