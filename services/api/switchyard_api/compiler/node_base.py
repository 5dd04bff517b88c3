"""Per-node basics: SNAT of pod egress, the interfaces the service proxy manages, and static
routes to other nodes' pod CIDRs.

- SnatConfig: masquerade to the node's first IPv4 / IPv6 address. exclude_prefixes = every
  node's pod CIDRs plus every service ClusterIP, collapsed into the fewest exact prefixes
  (contiguous ClusterIPs become one prefix, no address outside the set is covered). The list is
  computed once per drain and shared by every node's SnatConfig.
- ManagedInterface: the node's uplinkInterface (if set), and each pod's interface on its node.
- Route: on nodes without BGP only (BGP nodes learn pod CIDRs from their peers), one route per
  other node's pod CIDR via all of that node's addresses of the CIDR's family (several: ECMP).
  A node with a pod CIDR but no address of its family: CompileError, no route.
"""

from __future__ import annotations

from collections.abc import Iterable
from ipaddress import IPv4Network, IPv6Network, collapse_addresses, ip_network

from switchyard_contract.nodeconfig import ManagedInterface, NextHop, Route, SnatConfig

from .emitter import Output
from .index import ClusterIndex, NsName
from .load_balancers import first_address
from .services import family


def exclude_prefixes(pod_cidrs: Iterable[str], cluster_ips: Iterable[str]) -> tuple[str, ...]:
    v4: list[IPv4Network] = []
    v6: list[IPv6Network] = []
    for text in (*pod_cidrs, *cluster_ips):
        network = ip_network(text)
        if isinstance(network, IPv4Network):
            v4.append(network)
        else:
            v6.append(network)
    return tuple(str(n) for n in (*collapse_addresses(v4), *collapse_addresses(v6)))


def snat_unit(index: ClusterIndex, name: str, excluded: tuple[str, ...]) -> Output:
    out = Output()
    node = index.nodes.get(name)
    if node is not None:
        out.put(name, SnatConfig(first_address(node, 4), first_address(node, 6), excluded))
    return out


def uplink_unit(index: ClusterIndex, name: str) -> Output:
    out = Output()
    node = index.nodes.get(name)
    if node is not None and node.spec.uplinkInterface:
        out.put(name, ManagedInterface(node.spec.uplinkInterface, "uplink"))
    return out


def pod_interface_unit(index: ClusterIndex, key: NsName) -> Output:
    out = Output()
    pod = index.pods.get(key)
    if pod is not None and pod.spec.interface:
        out.put(pod.spec.nodeName, ManagedInterface(pod.spec.interface, "pod"))
    return out


def routes_unit(index: ClusterIndex, name: str) -> Output:
    out = Output()
    node = index.nodes.get(name)
    if node is None or node.spec.bgp is not None:
        return out
    for other in index.sorted_nodes():
        if other.name == name:
            continue
        for cidr in other.spec.podCIDRs:
            fam = family(cidr)
            hops = tuple(NextHop(a) for a in other.spec.addresses if family(a) == fam)
            if not hops:
                out.error(other.ref, f"no IPv{fam} address to route pod CIDR {cidr} to", name)
            elif (name, f"route/{cidr}") in out.items:
                out.error(other.ref, f"pod CIDR {cidr} is also another node's", name)
            else:
                out.put(name, Route(cidr, hops))
    return out
