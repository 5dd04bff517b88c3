"""NodeConfig objects <-> switchyard.v1 protobuf messages.

One message per dataclass of `compiler.nodeconfig`, with the same name and the same fields
(tests/test_proto_codec.py checks it). Mapping rules:

* Literal strings of the dataclasses <-> proto enums (UNSPECIFIED and unknown values are
  rejected on decode); `AclAction` 0/1/2 (VPP's deny/permit/permit+reflect) <-> the enum's
  DENY/PERMIT/PERMIT_REFLECT (1/2/3).
* `X | None` fields <-> proto3 `optional` fields (absent = None, "" or 0 is a value).
* tuples <-> repeated fields, in order.

Every field is written explicitly: the dataclass defaults play no part on the wire.

Encoding writes into the parent message in place (`objects.add()`), two to four times faster
than building each NodeObject on its own and copying it into a Snapshot: use
`snapshot_to_proto` / `snapshot_chunks` / `delta_to_proto` / `delta_chunks` for whole
configurations (they write the mapping's keys as `key`), `to_proto` for one object, and an
`EncodeCache` when the same objects go to many nodes. `from_proto` checks that a NodeObject's
`key` is the decoded object's `.key`. Errors are `CodecError` carrying the object's key,
which is what a Nack's ObjectError needs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Final, TypeVar

from google.protobuf.internal.containers import RepeatedCompositeFieldContainer

from switchyard.v1 import distribution_pb2 as dpb
from switchyard.v1 import nodeconfig_pb2 as pb

from . import nodeconfig as nc

__all__ = [
    "DEFAULT_CHUNK_BYTES",
    "ONEOF_FIELD",
    "CodecError",
    "EncodeCache",
    "delta_chunks",
    "delta_from_proto",
    "delta_to_proto",
    "from_proto",
    "snapshot_chunks",
    "snapshot_from_proto",
    "snapshot_to_proto",
    "to_proto",
]

# gRPC's default limit on a received message is 4 MiB; chunks stay well below it. An object
# larger than the limit still travels alone in its chunk.
DEFAULT_CHUNK_BYTES: Final = 2 * 1024 * 1024


class CodecError(ValueError):
    """An object (or message) that cannot be converted; `key` is "" when not about one object."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}" if key else message)
        self.key = key
        self.message = message


# --- enums ------------------------------------------------------------------------------

_PROTOCOL: Final[Mapping[str, pb.Protocol.ValueType]] = {
    "TCP": pb.PROTOCOL_TCP,
    "UDP": pb.PROTOCOL_UDP,
    "SCTP": pb.PROTOCOL_SCTP,
}
_PROTOCOL_FROM: Final[Mapping[int, nc.Protocol]] = {
    pb.PROTOCOL_TCP: "TCP",
    pb.PROTOCOL_UDP: "UDP",
    pb.PROTOCOL_SCTP: "SCTP",
}
_FRONTEND_KIND: Final[Mapping[str, pb.FrontendKind.ValueType]] = {
    "clusterIP": pb.FRONTEND_KIND_CLUSTER_IP,
    "nodePort": pb.FRONTEND_KIND_NODE_PORT,
    "externalIP": pb.FRONTEND_KIND_EXTERNAL_IP,
    "loadBalancerIP": pb.FRONTEND_KIND_LOAD_BALANCER_IP,
}
_FRONTEND_KIND_FROM: Final[Mapping[int, nc.FrontendKind]] = {
    pb.FRONTEND_KIND_CLUSTER_IP: "clusterIP",
    pb.FRONTEND_KIND_NODE_PORT: "nodePort",
    pb.FRONTEND_KIND_EXTERNAL_IP: "externalIP",
    pb.FRONTEND_KIND_LOAD_BALANCER_IP: "loadBalancerIP",
}
_INTERFACE_ROLE: Final[Mapping[str, pb.InterfaceRole.ValueType]] = {
    "uplink": pb.INTERFACE_ROLE_UPLINK,
    "pod": pb.INTERFACE_ROLE_POD,
}
_INTERFACE_ROLE_FROM: Final[Mapping[int, nc.InterfaceRole]] = {
    pb.INTERFACE_ROLE_UPLINK: "uplink",
    pb.INTERFACE_ROLE_POD: "pod",
}
_LB_ENCAP: Final[Mapping[str, pb.LbEncap.ValueType]] = {
    "gre4": pb.LB_ENCAP_GRE4,
    "gre6": pb.LB_ENCAP_GRE6,
    "l3dsr": pb.LB_ENCAP_L3DSR,
}
_LB_ENCAP_FROM: Final[Mapping[int, nc.LbEncap]] = {
    pb.LB_ENCAP_GRE4: "gre4",
    pb.LB_ENCAP_GRE6: "gre6",
    pb.LB_ENCAP_L3DSR: "l3dsr",
}
_LB_PROTOCOL: Final[Mapping[str, pb.LbProtocol.ValueType]] = {
    "TCP": pb.LB_PROTOCOL_TCP,
    "UDP": pb.LB_PROTOCOL_UDP,
    "Any": pb.LB_PROTOCOL_ANY,
}
_LB_PROTOCOL_FROM: Final[Mapping[int, nc.LbProtocol]] = {
    pb.LB_PROTOCOL_TCP: "TCP",
    pb.LB_PROTOCOL_UDP: "UDP",
    pb.LB_PROTOCOL_ANY: "Any",
}
_ACL_ACTION: Final[Mapping[int, pb.AclAction.ValueType]] = {
    0: pb.ACL_ACTION_DENY,
    1: pb.ACL_ACTION_PERMIT,
    2: pb.ACL_ACTION_PERMIT_REFLECT,
}
_ACL_ACTION_FROM: Final[Mapping[int, nc.AclAction]] = {
    pb.ACL_ACTION_DENY: 0,
    pb.ACL_ACTION_PERMIT: 1,
    pb.ACL_ACTION_PERMIT_REFLECT: 2,
}


# --- encoders: fill a NodeObject in place -------------------------------------------------

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
    f.protocol = _PROTOCOL[o.protocol]
    f.port = o.port
    f.kind = _FRONTEND_KIND[o.kind]
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
    i.role = _INTERFACE_ROLE[o.role]


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
    v.protocol = _LB_PROTOCOL[o.protocol]
    v.port = o.port
    v.encap = _LB_ENCAP[o.encap]
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
            action=_ACL_ACTION[r.action],
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


def _encode_into(obj: nc.NodeObject, key: str, m: pb.NodeObject) -> None:
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
    _encode_into(obj, key, m)
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


def _add_object(
    objects: RepeatedCompositeFieldContainer[pb.NodeObject],
    key: str,
    obj: nc.NodeObject,
    cache: EncodeCache | None,
) -> int:
    """Append obj to objects; returns its encoded size (with a tag and length prefix)."""
    m = objects.add()
    if cache is None:
        _encode_into(obj, key, m)
        size: int = m.ByteSize()
        return size + 6
    data = cache.get(obj)
    if data is None:
        # Shared between nodes: the object's own key, never a caller's mapping key.
        _encode_into(obj, obj.key if type(obj) in _ENCODERS else key, m)
        data = m.SerializeToString()
        cache.put(obj, data)
    else:
        m.MergeFromString(data)
    return len(data) + 6


# --- decoders -----------------------------------------------------------------------------


def _dec_frontend(m: pb.NodeObject) -> nc.ServiceFrontend:
    f = m.frontend
    backend = nc.Backend
    return nc.ServiceFrontend(
        address=f.address,
        protocol=_PROTOCOL_FROM[f.protocol],
        port=f.port,
        kind=_FRONTEND_KIND_FROM[f.kind],
        backends=tuple([backend(b.address, b.port, b.weight) for b in f.backends]),
        affinity_timeout=f.affinity_timeout,
        local_only=f.local_only,
        service=f.service,
    )


def _dec_interface(m: pb.NodeObject) -> nc.ManagedInterface:
    i = m.interface
    return nc.ManagedInterface(name=i.name, role=_INTERFACE_ROLE_FROM[i.role])


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
        protocol=_LB_PROTOCOL_FROM[v.protocol],
        port=v.port,
        encap=_LB_ENCAP_FROM[v.encap],
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
    action = _ACL_ACTION_FROM
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


# --- snapshots and deltas -----------------------------------------------------------------


def _decode_all(objects: Iterable[pb.NodeObject], into: dict[str, nc.NodeObject]) -> None:
    for m in objects:
        obj = from_proto(m)
        if obj.key in into:
            raise CodecError(obj.key, "duplicate key")
        into[obj.key] = obj


def snapshot_to_proto(
    config: nc.NodeConfig, revision: int, cache: EncodeCache | None = None
) -> dpb.Snapshot:
    """The whole configuration in one Snapshot message (see snapshot_chunks for the wire)."""
    msg = dpb.Snapshot(node=config.node, revision=revision)
    objects = msg.objects
    if cache is None:
        add = objects.add
        for key, obj in config.objects.items():
            _encode_into(obj, key, add())
    else:
        for key, obj in config.objects.items():
            _add_object(objects, key, obj, cache)
    return msg


def snapshot_chunks(
    config: nc.NodeConfig,
    revision: int,
    max_bytes: int = DEFAULT_CHUNK_BYTES,
    cache: EncodeCache | None = None,
) -> Iterator[dpb.Snapshot]:
    """The configuration as Snapshot messages of about max_bytes at most, `continued` set on
    all but the last; always at least one message (an empty configuration is a snapshot)."""
    msg = dpb.Snapshot(node=config.node, revision=revision)
    size = 0
    for key, obj in config.objects.items():
        size += _add_object(msg.objects, key, obj, cache)
        if size >= max_bytes:
            msg.continued = True
            yield msg
            msg = dpb.Snapshot(node=config.node, revision=revision)
            size = 0
    # A chunk that ends exactly at the last object leaves an empty final chunk: harmless.
    yield msg


def snapshot_from_proto(*chunks: dpb.Snapshot) -> nc.NodeConfig:
    """The NodeConfig carried by one Snapshot, or by the consecutive chunks of one."""
    first = _check_chunks(chunks)
    objects: dict[str, nc.NodeObject] = {}
    for chunk in chunks:
        if (chunk.node, chunk.revision) != (first.node, first.revision):
            raise CodecError("", "snapshot chunks of different nodes or revisions")
        _decode_all(chunk.objects, objects)
    return nc.NodeConfig(node=first.node, objects=objects)


def delta_to_proto(
    delta: nc.NodeDelta, from_revision: int, to_revision: int, cache: EncodeCache | None = None
) -> dpb.Delta:
    """A NodeDelta as one Delta message; removals sorted (see delta_chunks for the wire)."""
    msg = dpb.Delta(
        node=delta.node,
        from_revision=from_revision,
        to_revision=to_revision,
        removals=sorted(delta.removals),
    )
    for key, obj in delta.upserts.items():
        _add_object(msg.upserts, key, obj, cache)
    return msg


def delta_chunks(
    delta: nc.NodeDelta,
    from_revision: int,
    to_revision: int,
    max_bytes: int = DEFAULT_CHUNK_BYTES,
    cache: EncodeCache | None = None,
) -> Iterator[dpb.Delta]:
    """A NodeDelta as Delta messages of about max_bytes at most, `continued` set on all but
    the last. Removals travel in the last chunk."""

    def new() -> dpb.Delta:
        return dpb.Delta(node=delta.node, from_revision=from_revision, to_revision=to_revision)

    msg = new()
    size = 0
    for key, obj in delta.upserts.items():
        size += _add_object(msg.upserts, key, obj, cache)
        if size >= max_bytes:
            msg.continued = True
            yield msg
            msg = new()
            size = 0
    msg.removals.extend(sorted(delta.removals))
    yield msg


def delta_from_proto(*chunks: dpb.Delta) -> nc.NodeDelta:
    """The NodeDelta carried by one Delta, or by the consecutive chunks of one. The revisions
    are the messages' `from_revision` / `to_revision`."""
    first = _check_chunks(chunks)
    ident = (first.node, first.from_revision, first.to_revision)
    upserts: dict[str, nc.NodeObject] = {}
    removals: set[str] = set()
    for chunk in chunks:
        if (chunk.node, chunk.from_revision, chunk.to_revision) != ident:
            raise CodecError("", "delta chunks of different nodes or revisions")
        _decode_all(chunk.upserts, upserts)
        removals.update(chunk.removals)
    both = removals & upserts.keys()
    if both:
        key = min(both)
        raise CodecError(key, "both upserted and removed")
    return nc.NodeDelta(node=first.node, upserts=upserts, removals=frozenset(removals))


_Chunk = TypeVar("_Chunk", dpb.Snapshot, dpb.Delta)


def _check_chunks(chunks: tuple[_Chunk, ...]) -> _Chunk:
    """The first of a complete chunk sequence: all but the last marked `continued`."""
    if not chunks:
        raise CodecError("", "no message")
    if not all(c.continued for c in chunks[:-1]):
        raise CodecError("", "a chunk before the last one is not marked continued")
    if chunks[-1].continued:
        raise CodecError("", "the last chunk is marked continued: incomplete")
    return chunks[0]
