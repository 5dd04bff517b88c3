"""Shared delta bodies with per-stream headers parse exactly like a normally built message."""

from __future__ import annotations

from switchyard.v1 import distribution_pb2 as dpb
from switchyard_api.compiler.nodeconfig import Backend, NodeDelta, ServiceFrontend
from switchyard_api.distribution.codec import delta_from_proto, delta_to_proto
from switchyard_api.distribution.wire import DeltaEncoder, varint

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
