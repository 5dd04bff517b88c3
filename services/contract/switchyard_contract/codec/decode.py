"""NodeObject messages -> NodeConfig values, each checked against its key."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final

from switchyard.v1 import nodeconfig_pb2 as pb

from .. import nodeconfig as nc
from .enums import (
    ACL_ACTION_FROM,
    FRONTEND_KIND_FROM,
    INTERFACE_ROLE_FROM,
    LB_ENCAP_FROM,
    LB_PROTOCOL_FROM,
    PROTOCOL_FROM,
    CodecError,
)


def _dec_frontend(m: pb.NodeObject) -> nc.ServiceFrontend:
    f = m.frontend
    backend = nc.Backend
    return nc.ServiceFrontend(
        address=f.address,
        protocol=PROTOCOL_FROM[f.protocol],
        port=f.port,
        kind=FRONTEND_KIND_FROM[f.kind],
        backends=tuple([backend(b.address, b.port, b.weight) for b in f.backends]),
        affinity_timeout=f.affinity_timeout,
        local_only=f.local_only,
        service=f.service,
    )


def _dec_interface(m: pb.NodeObject) -> nc.ManagedInterface:
    i = m.interface
    return nc.ManagedInterface(name=i.name, role=INTERFACE_ROLE_FROM[i.role])


def _dec_snat(m: pb.NodeObject) -> nc.SnatConfig:
    s = m.snat
    return nc.SnatConfig(
        snat_ip4=s.snat_ip4 if s.HasField("snat_ip4") else None,
        snat_ip6=s.snat_ip6 if s.HasField("snat_ip6") else None,
        exclude_prefixes=tuple(s.exclude_prefixes),
    )


def _dec_lb_global(m: pb.NodeObject) -> nc.LbGlobal:
    g = m.lb_global
    return nc.LbGlobal(
        ip4_src=g.ip4_src if g.HasField("ip4_src") else None,
        ip6_src=g.ip6_src if g.HasField("ip6_src") else None,
        sticky_buckets_per_core=g.sticky_buckets_per_core,
        flow_timeout=g.flow_timeout,
    )


def _dec_lb_vip(m: pb.NodeObject) -> nc.LbVip:
    v = m.lb_vip
    server = nc.LbServer
    return nc.LbVip(
        prefix=v.prefix,
        protocol=LB_PROTOCOL_FROM[v.protocol],
        port=v.port,
        encap=LB_ENCAP_FROM[v.encap],
        dscp=v.dscp if v.HasField("dscp") else None,
        new_flows_table_length=v.new_flows_table_length,
        servers=tuple([server(s.address, s.weight) for s in v.servers]),
        load_balancer=v.load_balancer,
    )


def _dec_gre(m: pb.NodeObject) -> nc.GreTunnel:
    g = m.gre
    return nc.GreTunnel(local=g.local, remote=g.remote)


def _dec_acl(m: pb.NodeObject) -> nc.Acl:
    a = m.acl
    action = ACL_ACTION_FROM
    rule = nc.AclRule
    return nc.Acl(
        name=a.name,
        rules=tuple(
            [
                rule(
                    action[r.action],
                    r.src_prefix,
                    r.dst_prefix,
                    r.proto,
                    r.src_port_first,
                    r.src_port_last,
                    r.dst_port_first,
                    r.dst_port_last,
                )
                for r in a.rules
            ]
        ),
    )


def _dec_acl_binding(m: pb.NodeObject) -> nc.AclBinding:
    b = m.acl_binding
    return nc.AclBinding(
        interface=b.interface, input_acls=tuple(b.input_acls), output_acls=tuple(b.output_acls)
    )


def _dec_route(m: pb.NodeObject) -> nc.Route:
    r = m.route
    hop = nc.NextHop
    next_hops = tuple([hop(h.address, h.interface) for h in r.next_hops])
    return nc.Route(prefix=r.prefix, next_hops=next_hops)


def _dec_bgp_global(m: pb.NodeObject) -> nc.BgpGlobal:
    g = m.bgp_global
    return nc.BgpGlobal(asn=g.asn, router_id=g.router_id, listen_port=g.listen_port)


def _dec_bgp_peer(m: pb.NodeObject) -> nc.BgpPeer:
    p = m.bgp_peer
    return nc.BgpPeer(
        address=p.address,
        asn=p.asn,
        password=p.password if p.HasField("password") else None,
        multihop_ttl=p.multihop_ttl,
        route_reflector_client=p.route_reflector_client,
        hold_time=p.hold_time,
        keepalive=p.keepalive,
        families=tuple(p.families),
    )


def _dec_bgp_path(m: pb.NodeObject) -> nc.BgpAnnouncement:
    a = m.bgp_path
    return nc.BgpAnnouncement(
        prefix=a.prefix, next_hop=a.next_hop, communities=tuple(a.communities)
    )


# NodeObject's oneof field -> decoder (and the dataclass it yields, for the tests).
_DECODERS: Final[Mapping[str, Callable[[pb.NodeObject], nc.NodeObject]]] = {
    "frontend": _dec_frontend,
    "interface": _dec_interface,
    "snat": _dec_snat,
    "lb_global": _dec_lb_global,
    "lb_vip": _dec_lb_vip,
    "gre": _dec_gre,
    "acl": _dec_acl,
    "acl_binding": _dec_acl_binding,
    "route": _dec_route,
    "bgp_global": _dec_bgp_global,
    "bgp_peer": _dec_bgp_peer,
    "bgp_path": _dec_bgp_path,
}
ONEOF_FIELD: Final[Mapping[type[nc.NodeObject], str]] = {
    nc.ServiceFrontend: "frontend",
    nc.ManagedInterface: "interface",
    nc.SnatConfig: "snat",
    nc.LbGlobal: "lb_global",
    nc.LbVip: "lb_vip",
    nc.GreTunnel: "gre",
    nc.Acl: "acl",
    nc.AclBinding: "acl_binding",
    nc.Route: "route",
    nc.BgpGlobal: "bgp_global",
    nc.BgpPeer: "bgp_peer",
    nc.BgpAnnouncement: "bgp_path",
}


def from_proto(m: pb.NodeObject) -> nc.NodeObject:
    """The NodeConfig object of a NodeObject message; CodecError if it is not a valid one."""
    which = m.WhichOneof("object")
    if which is None:
        raise CodecError(m.key, "no object, or an object type this version does not know")
    try:
        obj = _DECODERS[which](m)
    except KeyError as exc:
        value = exc.args[0]
        raise CodecError(m.key, f"{which}: unspecified or unknown enum value {value}") from None
    if obj.key != m.key:
        raise CodecError(m.key, f"key does not match the object's key {obj.key!r}")
    return obj
