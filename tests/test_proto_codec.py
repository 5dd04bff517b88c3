"""NodeConfig dataclasses <-> switchyard.v1 messages: a one-to-one mirror, lossless both ways."""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from typing import Any, Literal, get_args, get_origin, get_type_hints

import pytest
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from hypothesis import given, settings
from hypothesis import strategies as st

from switchyard.v1 import distribution_pb2 as dpb
from switchyard.v1 import nodeconfig_pb2 as pb
from switchyard_contract import codec
from switchyard_contract import nodeconfig as nc
from switchyard_contract.codec import CodecError
from tests.compiler.factories import (
    endpoint,
    make_bgp_peer,
    make_endpoints,
    make_load_balancer,
    make_network_policy,
    make_node,
    make_pod,
    make_service,
)

NESTED_TYPES: tuple[type[Any], ...] = (nc.Backend, nc.LbServer, nc.AclRule, nc.NextHop)
ALL_TYPES = (*nc.OBJECT_TYPES, *NESTED_TYPES)
UINT32 = 2**32 - 1


def _any(value: object) -> Any:
    """A deliberately ill-typed value."""
    return value


def _fields(cls: type[Any]) -> list[tuple[str, Any]]:
    hints = get_type_hints(cls, vars(nc))
    return [(f.name, hints[f.name]) for f in dataclasses.fields(cls)]


def _optional_inner(tp: Any) -> Any | None:
    """T for `T | None`, else None."""
    if get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if len(args) == 1 and len(get_args(tp)) == 2:
            return args[0]
    return None


# --- the mirror ---------------------------------------------------------------------------


@pytest.mark.parametrize("cls", ALL_TYPES, ids=lambda c: c.__name__)
def test_message_mirrors_dataclass_field_by_field(cls: type[Any]) -> None:
    message: Descriptor = getattr(pb, cls.__name__).DESCRIPTOR
    assert [f.name for f in message.fields] == [name for name, _ in _fields(cls)]
    for name, tp in _fields(cls):
        field = message.fields_by_name[name]
        inner = _optional_inner(tp)
        optional = field.has_presence and field.containing_oneof is not None
        assert optional == (inner is not None), f"{cls.__name__}.{name}: optional <-> X | None"
        base = inner if inner is not None else tp
        repeated = field.is_repeated
        assert repeated == (get_origin(base) is tuple), f"{cls.__name__}.{name}: repeated"
        if repeated:
            (base, _) = get_args(base)
        if isinstance(base, type) and dataclasses.is_dataclass(base):
            assert field.message_type is not None
            assert field.message_type.name == base.__name__
        elif get_origin(base) is Literal:
            assert field.type == FieldDescriptor.TYPE_ENUM, f"{cls.__name__}.{name}: enum"
            assert field.enum_type is not None
            values = {v.number for v in field.enum_type.values if v.number != 0}
            assert len(values) == len(get_args(base)), f"{cls.__name__}.{name}: enum values"
        else:
            expected = {
                str: FieldDescriptor.TYPE_STRING,
                int: FieldDescriptor.TYPE_UINT32,
                bool: FieldDescriptor.TYPE_BOOL,
            }[base]
            assert field.type == expected, f"{cls.__name__}.{name}: scalar type"


def test_node_object_oneof_has_one_field_per_type() -> None:
    oneof = pb.NodeObject.DESCRIPTOR.oneofs_by_name["object"]
    by_message = {f.message_type.name: f.name for f in oneof.fields if f.message_type}
    assert set(codec.ONEOF_FIELD) == set(nc.OBJECT_TYPES)
    assert by_message == {cls.__name__: name for cls, name in codec.ONEOF_FIELD.items()}


def test_enum_zero_values_are_unspecified() -> None:
    for enum in pb.DESCRIPTOR.enum_types_by_name.values():
        assert enum.values_by_number[0].name.endswith("_UNSPECIFIED")
    for message in (dpb.Goodbye,):
        for enum in message.DESCRIPTOR.enum_types:
            assert enum.values_by_number[0].name.endswith("_UNSPECIFIED")


# --- generated values ---------------------------------------------------------------------

_text = st.text(st.characters(codec="utf-8"), max_size=12)


def _strategy(tp: Any) -> st.SearchStrategy[Any]:
    inner = _optional_inner(tp)
    if inner is not None:
        return st.none() | _strategy(inner)
    if get_origin(tp) is Literal:
        return st.sampled_from(get_args(tp))
    if get_origin(tp) is tuple:
        return st.lists(_strategy(get_args(tp)[0]), max_size=4).map(tuple)
    if dataclasses.is_dataclass(tp):
        return _dataclass_strategy(typing.cast(type[Any], tp))
    return {
        str: _text,
        int: st.integers(0, UINT32),
        bool: st.booleans(),
    }[tp]


def _dataclass_strategy(cls: type[Any]) -> st.SearchStrategy[Any]:
    return st.builds(cls, **{name: _strategy(tp) for name, tp in _fields(cls)})


node_objects: st.SearchStrategy[nc.NodeObject] = st.one_of(
    [_dataclass_strategy(cls) for cls in nc.OBJECT_TYPES]
)


def _wire_round_trip(obj: nc.NodeObject) -> nc.NodeObject:
    data = codec.to_proto(obj).SerializeToString()
    back: nc.NodeObject = codec.from_proto(pb.NodeObject.FromString(data))
    return back


@pytest.mark.parametrize("cls", nc.OBJECT_TYPES, ids=lambda c: c.__name__)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_every_type_round_trips(cls: type[nc.NodeObject], data: st.DataObject) -> None:
    obj = data.draw(_dataclass_strategy(cls))
    msg = codec.to_proto(obj)
    assert msg.key == obj.key
    assert msg.WhichOneof("object") == codec.ONEOF_FIELD[cls]
    back = _wire_round_trip(obj)
    assert type(back) is cls
    assert back == obj


@settings(max_examples=40, deadline=None)
@given(objects=st.lists(node_objects, max_size=12), revision=st.integers(0, 2**64 - 1))
def test_snapshot_round_trips(objects: list[nc.NodeObject], revision: int) -> None:
    config = nc.NodeConfig("node-1", {o.key: o for o in objects})
    msg = codec.snapshot_to_proto(config, revision)
    assert (msg.node, msg.revision, msg.continued) == ("node-1", revision, False)
    back = codec.snapshot_from_proto(dpb.Snapshot.FromString(msg.SerializeToString()))
    assert back == config


@settings(max_examples=40, deadline=None)
@given(
    upserts=st.lists(node_objects, max_size=8),
    removals=st.frozensets(_text, max_size=5),
    revisions=st.tuples(st.integers(0, 2**64 - 1), st.integers(0, 2**64 - 1)),
)
def test_delta_round_trips(
    upserts: list[nc.NodeObject], removals: frozenset[str], revisions: tuple[int, int]
) -> None:
    ups = {o.key: o for o in upserts}
    delta = nc.NodeDelta("node-1", ups, removals - ups.keys())
    msg = codec.delta_to_proto(delta, *revisions)
    assert (msg.from_revision, msg.to_revision) == revisions
    assert list(msg.removals) == sorted(delta.removals)
    back = codec.delta_from_proto(dpb.Delta.FromString(msg.SerializeToString()))
    assert back == delta


# --- None versus empty --------------------------------------------------------------------


@pytest.mark.parametrize(
    "obj",
    [
        nc.SnatConfig(snat_ip4=None, snat_ip6=None, exclude_prefixes=()),
        nc.SnatConfig(snat_ip4="", snat_ip6=None, exclude_prefixes=()),
        nc.SnatConfig(snat_ip4=None, snat_ip6="", exclude_prefixes=("",)),
        nc.LbGlobal(ip4_src="", ip6_src=None, sticky_buckets_per_core=0, flow_timeout=0),
        nc.LbGlobal(ip4_src=None, ip6_src=None, sticky_buckets_per_core=0, flow_timeout=0),
        nc.LbVip("203.0.113.1/32", "Any", 0, "gre4", None, 1024, ()),
        nc.LbVip("203.0.113.1/32", "Any", 0, "gre4", 0, 1024, ()),
        nc.BgpPeer("10.0.0.254", 65000, password=None),
        nc.BgpPeer("10.0.0.254", 65000, password=""),
        nc.BgpPeer("10.0.0.254", 65000, families=()),
        nc.GreTunnel("", ""),
        nc.BgpGlobal(0, "", 0),
        nc.ServiceFrontend("10.96.0.1", "UDP", 0, "nodePort", (nc.Backend("", 0, 0),)),
    ],
    ids=repr,
)
def test_none_and_empty_and_zero_values_survive(obj: nc.NodeObject) -> None:
    assert _wire_round_trip(obj) == obj


def test_dataclass_defaults_are_not_wire_defaults() -> None:
    """Every field is written: a weight of 1 or port 179 is on the wire, not implied."""
    msg = codec.to_proto(nc.BgpGlobal(asn=65001, router_id="10.0.0.1"))
    assert msg.bgp_global.listen_port == 179
    rule = nc.AclRule(action=0, src_prefix="0.0.0.0/0", dst_prefix="0.0.0.0/0")
    acl = codec.to_proto(nc.Acl("h", (rule,))).acl
    assert acl.rules[0].action == pb.ACL_ACTION_DENY
    assert acl.rules[0].src_port_last == 65535


# --- errors -------------------------------------------------------------------------------

FRONTEND = nc.ServiceFrontend("10.96.0.10", "TCP", 80, "clusterIP", (nc.Backend("10.1.0.1", 8080),))


def _corrupt(edit: Callable[[pb.NodeObject], None]) -> pb.NodeObject:
    msg = codec.to_proto(FRONTEND)
    edit(msg)
    return msg


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda m: setattr(m.frontend, "protocol", pb.PROTOCOL_UNSPECIFIED), "enum value 0"),
        (lambda m: setattr(m.frontend, "kind", 42), "enum value 42"),
        (lambda m: setattr(m.frontend, "port", 81), "does not match"),
        (lambda m: m.ClearField("frontend"), "no object"),
    ],
    ids=["unspecified-enum", "unknown-enum", "key-mismatch", "no-object"],
)
def test_invalid_messages_are_rejected_with_their_key(
    edit: Callable[[pb.NodeObject], None], message: str
) -> None:
    with pytest.raises(CodecError, match=message) as exc:
        codec.from_proto(_corrupt(edit))
    assert exc.value.key == FRONTEND.key


def test_an_object_type_from_a_newer_controller_is_rejected_by_key() -> None:
    newer = pb.NodeObject(key="widget/1").SerializeToString() + b"\xa2\x06\x02\x08\x01"  # #100
    with pytest.raises(CodecError, match="no object") as exc:
        codec.from_proto(pb.NodeObject.FromString(newer))
    assert exc.value.key == "widget/1"


@pytest.mark.parametrize(
    "obj",
    [
        dataclasses.replace(FRONTEND, protocol=_any("ICMP")),
        dataclasses.replace(FRONTEND, port=-1),
        dataclasses.replace(FRONTEND, port=2**32),
        dataclasses.replace(FRONTEND, address=_any(None)),
        nc.Acl("h", (nc.AclRule(_any(3), "::/0", "::/0"),)),
    ],
    ids=["bad-literal", "negative", "too-large", "none", "bad-acl-action"],
)
def test_unencodable_objects_raise_codec_error(obj: nc.NodeObject) -> None:
    with pytest.raises(CodecError) as exc:
        codec.to_proto(obj)
    assert exc.value.key == obj.key


def test_not_a_node_object() -> None:
    with pytest.raises(CodecError, match="not a NodeConfig object"):
        codec.to_proto(_any(nc.Backend("10.0.0.1", 80)))


def test_duplicate_keys_and_conflicting_delta_are_rejected() -> None:
    snap = codec.snapshot_to_proto(nc.NodeConfig("n", {FRONTEND.key: FRONTEND}), 3)
    snap.objects.append(codec.to_proto(FRONTEND))
    with pytest.raises(CodecError, match="duplicate key"):
        codec.snapshot_from_proto(snap)
    delta = codec.delta_to_proto(nc.NodeDelta("n", {FRONTEND.key: FRONTEND}, frozenset()), 3, 4)
    delta.removals.append(FRONTEND.key)
    with pytest.raises(CodecError, match="both upserted and removed"):
        codec.delta_from_proto(delta)


# --- chunks and the encode cache ----------------------------------------------------------


def _big_config(n: int) -> nc.NodeConfig:
    objects: dict[str, nc.NodeObject] = {}
    for i in range(n):
        backends = tuple(nc.Backend(f"10.244.{j}.{i % 250}", 8080) for j in range(3))
        fe = nc.ServiceFrontend(f"10.96.{i // 250}.{i % 250}", "TCP", 80, "clusterIP", backends)
        objects[fe.key] = fe
    return nc.NodeConfig("node-1", objects)


def test_snapshot_chunks_reassemble() -> None:
    config = _big_config(500)
    chunks = list(codec.snapshot_chunks(config, 9, max_bytes=8 * 1024))
    assert len(chunks) > 3
    assert all(c.ByteSize() < 8 * 1024 + 1024 for c in chunks)
    assert [c.continued for c in chunks] == [True] * (len(chunks) - 1) + [False]
    assert {c.revision for c in chunks} == {9}
    assert codec.snapshot_from_proto(*chunks) == config
    with pytest.raises(CodecError, match="incomplete"):
        codec.snapshot_from_proto(*chunks[:-1])
    with pytest.raises(CodecError, match="not marked continued"):
        codec.snapshot_from_proto(chunks[-1], chunks[-1])
    empty = list(codec.snapshot_chunks(nc.NodeConfig("n", {}), 1))
    assert len(empty) == 1 and codec.snapshot_from_proto(*empty) == nc.NodeConfig("n", {})


def test_delta_chunks_reassemble() -> None:
    config = _big_config(300)
    delta = nc.NodeDelta("node-1", config.objects, frozenset({"route/10.0.0.0/8", "snat"}))
    chunks = list(codec.delta_chunks(delta, 4, 5, max_bytes=4 * 1024))
    assert len(chunks) > 3
    assert list(chunks[-1].removals) == ["route/10.0.0.0/8", "snat"]
    assert codec.delta_from_proto(*chunks) == delta
    assert codec.delta_from_proto(codec.delta_to_proto(delta, 4, 5)) == delta


def test_encode_cache_gives_the_same_messages() -> None:
    config = _big_config(50)
    cache = codec.EncodeCache(max_entries=30)
    plain = codec.snapshot_to_proto(config, 2)
    for _ in range(2):
        assert codec.snapshot_to_proto(config, 2, cache) == plain
        assert len(cache) <= 30
    assert list(codec.snapshot_chunks(config, 2, cache=cache)) == [plain]
    some = next(iter(config.objects.values()))
    assert cache.encoded(some) == codec.to_proto(some).SerializeToString()
    delta = nc.NodeDelta("node-1", config.objects, frozenset())
    assert codec.delta_to_proto(delta, 1, 2, cache) == codec.delta_to_proto(delta, 1, 2)


# --- real compiler output -----------------------------------------------------------------


def test_compiled_configs_round_trip() -> None:
    from switchyard_api.compiler.engine import compile_full

    intent: list[Any] = [
        make_node(
            "n1",
            ["10.0.0.1", "fd00::1"],
            ["10.244.1.0/24"],
            uplink="eth0",
            bgp={"asn": 65001, "routerId": "10.0.0.1"},
        ),
        make_node(
            "n2", ["10.0.0.2"], ["10.244.2.0/24"], bgp={"asn": 65001, "routerId": "10.0.0.2"}
        ),
        make_pod("web-1", "n1", ["10.244.1.5"], labels={"app": "web"}, interface="memif1/0"),
        make_pod("web-2", "n2", ["10.244.2.5"], labels={"app": "web"}, interface="memif1/0"),
        make_service("web", ["10.96.0.10"], [{"port": 80, "targetPort": 8080}], type="NodePort"),
        make_endpoints(
            "web",
            [
                endpoint("10.244.1.5", node="n1", pod="web-1"),
                endpoint("10.244.2.5", node="n2", pod="web-2"),
            ],
            [{"port": 8080}],
        ),
        make_network_policy(
            "deny", pod_selector={"matchLabels": {"app": "web"}}, policyTypes=["Ingress"]
        ),
        make_load_balancer("lb", backends={"nodeSelector": {}}),
        make_bgp_peer("upstream"),
    ]
    configs = compile_full(intent)
    assert configs
    for config in configs.values():
        assert config.objects
        chunks = list(codec.snapshot_chunks(config, 11))
        wire = [dpb.Snapshot.FromString(c.SerializeToString()) for c in chunks]
        assert codec.snapshot_from_proto(*wire) == nc.NodeConfig(config.node, dict(config.objects))


# --- the service, over loopback -----------------------------------------------------------


async def test_distribution_stream_and_health_over_loopback() -> None:
    """The generated stubs carry the contract end to end: Hello -> Snapshot -> Ack, plus the
    standard health service (grpc_health.v1, nothing generated here)."""
    from collections.abc import AsyncIterator

    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc
    from grpc_health.v1.health import aio as health_aio

    from switchyard.v1 import distribution_pb2_grpc

    config = _big_config(3)
    acked: list[int] = []

    class Servicer(distribution_pb2_grpc.DistributionServicer):
        async def Connect(
            self, request_iterator: Any, context: Any
        ) -> AsyncIterator[dpb.ControllerMessage]:
            async for msg in request_iterator:
                kind = msg.WhichOneof("message")
                if kind == "hello":
                    assert msg.hello.node == "node-1"
                    assert not msg.hello.HasField("last_applied_revision")
                    for chunk in codec.snapshot_chunks(config, 5):
                        yield dpb.ControllerMessage(snapshot=chunk)
                elif kind == "ack":
                    acked.append(msg.ack.revision)
                    yield dpb.ControllerMessage(
                        goodbye=dpb.Goodbye(reason=dpb.Goodbye.REASON_SHUTTING_DOWN)
                    )

    server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
    distribution_pb2_grpc.add_DistributionServicer_to_server(Servicer(), server)
    health = health_aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    await health.set("switchyard.v1.Distribution", health_pb2.HealthCheckResponse.SERVING)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            check = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service="switchyard.v1.Distribution")
            )
            assert check.status == health_pb2.HealthCheckResponse.SERVING
            call = distribution_pb2_grpc.DistributionStub(channel).Connect()
            hello = dpb.Hello(node="node-1", agent_version="0.1.0", capabilities=["vpp"])
            await call.write(dpb.AgentMessage(hello=hello))
            chunks = []
            while True:
                reply = await call.read()
                assert isinstance(reply, dpb.ControllerMessage)
                assert reply.WhichOneof("message") == "snapshot"
                chunks.append(reply.snapshot)
                if not reply.snapshot.continued:
                    break
            assert codec.snapshot_from_proto(*chunks) == config
            await call.write(dpb.AgentMessage(ack=dpb.Ack(revision=chunks[0].revision)))
            bye = await call.read()
            assert isinstance(bye, dpb.ControllerMessage)
            assert bye.goodbye.reason == dpb.Goodbye.REASON_SHUTTING_DOWN
            await call.done_writing()
            assert acked == [5]
    finally:
        await server.stop(None)
