"""Which intent kinds a dataplane object of a given kind may have been compiled from, and
which dataplane renders it.

The compiler records its owner on service frontends and load-balancer VIPs only
(object_status.owners_of). For every other key a node NACKs, and for a dataplane that is down,
object status must still not count that node as applied for the objects that may be behind
it: these tables say which those are. They over-approximate on purpose (an ACL may come from
any NetworkPolicy, Pod, Namespace or Node): "not applied" for an object that was applied is a
delay, "applied" for one that was not is a lie.
"""

from __future__ import annotations

from typing import Final

ALL_KINDS: Final = frozenset(
    {
        "Namespace",
        "Node",
        "Pod",
        "Service",
        "EndpointSlice",
        "NetworkPolicy",
        "LoadBalancer",
        "BgpPeer",
    }
)
_POLICY: Final = frozenset({"NetworkPolicy", "Pod", "Namespace", "Node"})

# NodeObject kind -> the intent kinds whose compilation may emit it.
SOURCES: Final[dict[str, frozenset[str]]] = {
    "frontend": frozenset({"Service", "EndpointSlice", "LoadBalancer", "Node"}),
    "interface": frozenset({"Node", "Pod"}),
    "snat": frozenset({"Node"}),
    "lb-global": frozenset({"Node", "LoadBalancer"}),
    "lb-vip": frozenset({"LoadBalancer"}),
    "gre": frozenset({"Node", "LoadBalancer"}),
    "acl": _POLICY,
    "acl-binding": _POLICY,
    "route": frozenset({"Node"}),
    "bgp-global": frozenset({"Node"}),
    "bgp-peer": frozenset({"Node", "BgpPeer"}),
    "bgp-path": frozenset({"Node", "Service", "LoadBalancer"}),
}

# Dataplane (as agents name them in their status) -> the NodeObject kinds it renders.
DATAPLANE_KINDS: Final[dict[str, frozenset[str]]] = {
    "vpp": frozenset(
        {"frontend", "interface", "snat", "lb-global", "lb-vip", "gre"}
        | {"acl", "acl-binding", "route"}
    ),
    "gobgp": frozenset({"bgp-global", "bgp-peer", "bgp-path"}),
}


def kind_of_key(key: str) -> str:
    return key.partition("/")[0]


def sources_of_key(key: str) -> frozenset[str]:
    """The intent kinds the dataplane object `key` may come from (all, for an unknown kind)."""
    return SOURCES.get(kind_of_key(key), ALL_KINDS)


def affected_by_dataplane(dataplane: str) -> frozenset[str]:
    """The intent kinds whose objects a dataplane being down leaves unapplied."""
    kinds = DATAPLANE_KINDS.get(dataplane)
    if kinds is None:
        return ALL_KINDS
    return frozenset().union(*(SOURCES[kind] for kind in kinds))
