"""Shared delta bodies with per-stream headers parse exactly like a normally built message."""

from __future__ import annotations

from switchyard.v1 import distribution_pb2 as dpb
from switchyard_contract.codec import delta_from_proto, delta_to_proto
from switchyard_contract.nodeconfig import Backend, NodeDelta, ServiceFrontend
from switchyard_contract.wire import DeltaEncoder, varint

FRONTEND = ServiceFrontend("10.96.0.10", "TCP", 80, "clusterIP", (Backend("10.1.1.5", 8080),))


def test_varint_matches_protobuf() -> None:
    for value in (1, 127, 128, 300, 2**21, 2**35 + 7):  # 0 is not serialized in proto3
        message = dpb.Ack(revision=value).SerializeToString()
        assert message == b"\x08" + varint(value)


def test_encoded_delta_equals_the_plain_encoding() -> None:
    upserts = {FRONTEND.key: FRONTEND}
    removals = frozenset({"frontend/TCP/10.96.0.11/80"})
    encoder = DeltaEncoder()
    for node in ("n1", "n2"):
        delta = NodeDelta(node, upserts, removals)
        (data,) = encoder.encode(delta, 5, 9)
        parsed = dpb.ControllerMessage.FromString(data)
        expected = dpb.ControllerMessage(delta=delta_to_proto(delta, 5, 9))
        assert parsed == expected
        assert delta_from_proto(parsed.delta) == delta
    assert len(encoder._bodies) == 1  # the body was built once for both nodes


def test_encoded_deltas_are_byte_for_byte_protobuf_s_own() -> None:
    """Whatever the node name and revisions (0 is left out in proto3), the assembled bytes are
    exactly what protobuf serializes: an agent cannot tell them apart."""
    upserts = {FRONTEND.key: FRONTEND}
    encoder = DeltaEncoder()
    for removals in (frozenset(), frozenset({"frontend/TCP/10.96.0.11/80"})):
        for node in ("n1", "", "nœud-é" * 30):
            for revisions in ((0, 9), (5, 9), (9, 300), (2**33, 2**33 + 1), (0, 0)):
                delta = NodeDelta(node, upserts, removals)
                (data,) = encoder.encode(delta, *revisions)
                plain = dpb.ControllerMessage(delta=delta_to_proto(delta, *revisions))
                assert data == plain.SerializeToString()
    empty = NodeDelta("n1", {}, frozenset())
    (data,) = encoder.encode(empty, 3, 4)
    assert data == dpb.ControllerMessage(delta=delta_to_proto(empty, 3, 4)).SerializeToString()


def test_snapshots_share_the_cluster_wide_pieces_and_parse_like_plain_ones() -> None:
    from switchyard_contract.codec import snapshot_from_proto
    from switchyard_contract.nodeconfig import NodeConfig, SnatConfig
    from switchyard_contract.wire import SnapshotEncoder

    shared = {
        f.key: f
        for f in (
            ServiceFrontend(f"10.96.0.{i}", "TCP", 80, "clusterIP", (Backend("10.1.1.5", 8080),))
            for i in range(1, 200)
        )
    }
    encoder = SnapshotEncoder(max_bytes=4096)  # several chunks
    for node in ("n1", "n2"):
        own = {"snat": SnatConfig(f"192.0.2.{node[-1]}", None, ())}
        messages = [
            dpb.ControllerMessage.FromString(m) for m in encoder.encode(node, 7, own, shared)
        ]
        assert len(messages) > 1
        assert [m.snapshot.continued for m in messages] == [True] * (len(messages) - 1) + [False]
        assert all(m.snapshot.node == node and m.snapshot.revision == 7 for m in messages)
        config = snapshot_from_proto(*(m.snapshot for m in messages))
        assert config == NodeConfig(node, {**shared, **own})
    # A node object shadowing a shared one: still one object per key.
    key = next(iter(shared))
    shadow = {key: ServiceFrontend("10.96.0.1", "TCP", 80, "clusterIP", (), local_only=True)}
    messages = [
        dpb.ControllerMessage.FromString(m) for m in encoder.encode("n3", 8, shadow, shared)
    ]
    config = snapshot_from_proto(*(m.snapshot for m in messages))
    assert config.objects[key] == shadow[key] and len(config.objects) == len(shared)
