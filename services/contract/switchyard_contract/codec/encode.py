"""NodeConfig values -> NodeObject messages, written into the parent message in place."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from google.protobuf.internal.containers import RepeatedCompositeFieldContainer

from switchyard.v1 import nodeconfig_pb2 as pb

from .. import nodeconfig as nc
from .enums import (
    ACL_ACTION,
    FRONTEND_KIND,
    INTERFACE_ROLE,
    LB_ENCAP,
    LB_PROTOCOL,
    PROTOCOL,
    CodecError,
)

_Obj = TypeVar("_Obj", bound=nc.NodeObject)
_Encoder = Callable[[Any, pb.NodeObject], None]
_ENCODERS: dict[type[Any], _Encoder] = {}


def _encoder(cls: type[_Obj]) -> Callable[[Callable[[_Obj, pb.NodeObject], None]], _Encoder]:
    def register(fn: Callable[[_Obj, pb.NodeObject], None]) -> _Encoder:
        _ENCODERS[cls] = fn
        return fn

    return register


@_encoder(nc.ServiceFrontend)
def _enc_frontend(o: nc.ServiceFrontend, m: pb.NodeObject) -> None:
    f = m.frontend
    f.address = o.address
    f.protocol = PROTOCOL[o.protocol]
    f.port = o.port
    f.kind = FRONTEND_KIND[o.kind]
    add = f.backends.add
    for b in o.backends:
        add(address=b.address, port=b.port, weight=b.weight)
    f.affinity_timeout = o.affinity_timeout
    f.local_only = o.local_only
    f.service = o.service


@_encoder(nc.ManagedInterface)
def _enc_interface(o: nc.ManagedInterface, m: pb.NodeObject) -> None:
    i = m.interface
    i.name = o.name
    i.role = INTERFACE_ROLE[o.role]


@_encoder(nc.SnatConfig)
def _enc_snat(o: nc.SnatConfig, m: pb.NodeObject) -> None:
    s = m.snat
    s.SetInParent()  # present even when every field is empty
    if o.snat_ip4 is not None:
        s.snat_ip4 = o.snat_ip4
    if o.snat_ip6 is not None:
        s.snat_ip6 = o.snat_ip6
    s.exclude_prefixes.extend(o.exclude_prefixes)


@_encoder(nc.LbGlobal)
def _enc_lb_global(o: nc.LbGlobal, m: pb.NodeObject) -> None:
    g = m.lb_global
    g.SetInParent()
    if o.ip4_src is not None:
        g.ip4_src = o.ip4_src
    if o.ip6_src is not None:
        g.ip6_src = o.ip6_src
    g.sticky_buckets_per_core = o.sticky_buckets_per_core
    g.flow_timeout = o.flow_timeout


@_encoder(nc.LbVip)
def _enc_lb_vip(o: nc.LbVip, m: pb.NodeObject) -> None:
    v = m.lb_vip
    v.prefix = o.prefix
    v.protocol = LB_PROTOCOL[o.protocol]
    v.port = o.port
    v.encap = LB_ENCAP[o.encap]
    if o.dscp is not None:
        v.dscp = o.dscp
    v.new_flows_table_length = o.new_flows_table_length
    add = v.servers.add
    for s in o.servers:
        add(address=s.address, weight=s.weight)
    v.load_balancer = o.load_balancer


@_encoder(nc.GreTunnel)
def _enc_gre(o: nc.GreTunnel, m: pb.NodeObject) -> None:
    g = m.gre
    g.SetInParent()
    g.local = o.local
    g.remote = o.remote


@_encoder(nc.Acl)
def _enc_acl(o: nc.Acl, m: pb.NodeObject) -> None:
    a = m.acl
    a.SetInParent()
    a.name = o.name
    add = a.rules.add
    for r in o.rules:
        add(
            action=ACL_ACTION[r.action],
            src_prefix=r.src_prefix,
            dst_prefix=r.dst_prefix,
            proto=r.proto,
            src_port_first=r.src_port_first,
            src_port_last=r.src_port_last,
            dst_port_first=r.dst_port_first,
            dst_port_last=r.dst_port_last,
        )


@_encoder(nc.AclBinding)
def _enc_acl_binding(o: nc.AclBinding, m: pb.NodeObject) -> None:
    b = m.acl_binding
    b.SetInParent()
    b.interface = o.interface
    b.input_acls.extend(o.input_acls)
    b.output_acls.extend(o.output_acls)


@_encoder(nc.Route)
def _enc_route(o: nc.Route, m: pb.NodeObject) -> None:
    r = m.route
    r.SetInParent()
    r.prefix = o.prefix
    add = r.next_hops.add
    for h in o.next_hops:
        add(address=h.address, interface=h.interface)


@_encoder(nc.BgpGlobal)
def _enc_bgp_global(o: nc.BgpGlobal, m: pb.NodeObject) -> None:
    g = m.bgp_global
    g.SetInParent()
    g.asn = o.asn
    g.router_id = o.router_id
    g.listen_port = o.listen_port


@_encoder(nc.BgpPeer)
def _enc_bgp_peer(o: nc.BgpPeer, m: pb.NodeObject) -> None:
    p = m.bgp_peer
    p.SetInParent()
    p.address = o.address
    p.asn = o.asn
    if o.password is not None:
        p.password = o.password
    p.multihop_ttl = o.multihop_ttl
    p.route_reflector_client = o.route_reflector_client
    p.hold_time = o.hold_time
    p.keepalive = o.keepalive
    p.families.extend(o.families)


@_encoder(nc.BgpAnnouncement)
def _enc_bgp_path(o: nc.BgpAnnouncement, m: pb.NodeObject) -> None:
    a = m.bgp_path
    a.SetInParent()
    a.prefix = o.prefix
    a.next_hop = o.next_hop
    a.communities.extend(o.communities)


def encode_into(obj: nc.NodeObject, key: str, m: pb.NodeObject) -> None:
    try:
        encode = _ENCODERS[type(obj)]
    except KeyError:
        raise CodecError(key, f"not a NodeConfig object: {type(obj).__name__}") from None
    m.key = key
    try:
        encode(obj, m)
    except KeyError as exc:  # a value outside the Literal type of its field
        raise CodecError(key, f"invalid enum value {exc.args[0]!r}") from None
    except (TypeError, ValueError) as exc:  # wrong type, integer out of range, bad UTF-8
        raise CodecError(key, str(exc)) from None


def to_proto(obj: nc.NodeObject) -> pb.NodeObject:
    """One NodeConfig object as a NodeObject message (key included)."""
    m = pb.NodeObject()
    key: str = obj.key if type(obj) in _ENCODERS else ""
    encode_into(obj, key, m)
    return m


class EncodeCache:
    """Serialized NodeObject messages by object value, for encoding the same objects into many
    snapshots and deltas (every node holds the ClusterIP frontends): a hit costs a hash of the
    object and a parse, about half of encoding it again; a miss costs a serialization more.
    The objects are immutable and their encoding is a pure function of their value (the key
    included), so entries never go stale; the cache is bounded by clearing it when it holds
    max_entries. Share one per process or event loop."""

    def __init__(self, max_entries: int = 1_000_000) -> None:
        self.max_entries = max_entries
        self._encoded: dict[nc.NodeObject, bytes] = {}

    def __len__(self) -> int:
        return len(self._encoded)

    def clear(self) -> None:
        self._encoded.clear()

    def get(self, obj: nc.NodeObject) -> bytes | None:
        return self._encoded.get(obj)

    def put(self, obj: nc.NodeObject, data: bytes) -> None:
        if len(self._encoded) >= self.max_entries:
            self._encoded.clear()
        self._encoded[obj] = data

    def encoded(self, obj: nc.NodeObject) -> bytes:
        """The serialized NodeObject of obj (its key included)."""
        data = self._encoded.get(obj)
        if data is None:
            data = to_proto(obj).SerializeToString()
            self.put(obj, data)
        return data


def add_object(
    objects: RepeatedCompositeFieldContainer[pb.NodeObject],
    key: str,
    obj: nc.NodeObject,
    cache: EncodeCache | None,
) -> int:
    """Append obj to objects; returns its encoded size (with a tag and length prefix)."""
    m = objects.add()
    if cache is None:
        encode_into(obj, key, m)
        size: int = m.ByteSize()
        return size + 6
    data = cache.get(obj)
    if data is None:
        # Shared between nodes: the object's own key, never a caller's mapping key.
        encode_into(obj, obj.key if type(obj) in _ENCODERS else key, m)
        data = m.SerializeToString()
        cache.put(obj, data)
    else:
        m.MergeFromString(data)
    return len(data) + 6
