"""Serialized ControllerMessages assembled from shared parts.

Protobuf defines that concatenated encodings of one message type parse as their merge (scalars:
last wins; repeated fields: appended). So a Delta's changes, identical for every node that gets
them, are serialized once per fan-out, and each stream only adds its own small header (node,
revisions). Wrapping in ControllerMessage is a length-delimited field: tag + varint length.
"""

from __future__ import annotations

from switchyard.v1 import distribution_pb2 as dpb

from ..compiler.nodeconfig import NodeDelta
from .codec import DEFAULT_CHUNK_BYTES, delta_chunks, delta_to_proto

# ControllerMessage field numbers (distribution.proto), wire type 2 (length-delimited).
_DELTA_TAG = bytes([(2 << 3) | 2])


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        low = value & 0x7F
        value >>= 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


class DeltaEncoder:
    """Encodes deltas for many streams, sharing the body of a delta between them."""

    def __init__(self) -> None:
        # id(upserts), id(removals) -> (the objects themselves, so ids stay theirs; the body)
        self._bodies: dict[tuple[int, int], tuple[object, object, bytes]] = {}

    def new_round(self) -> None:
        """Called at each fan-out: bodies of older deltas are no longer shared."""
        self._bodies.clear()

    def _body(self, delta: NodeDelta) -> bytes:
        ident = (id(delta.upserts), id(delta.removals))
        cached = self._bodies.get(ident)
        if cached is None:
            body = delta_to_proto(NodeDelta("", delta.upserts, delta.removals), 0, 0)
            cached = (delta.upserts, delta.removals, body.SerializeToString())
            self._bodies[ident] = cached
        return cached[2]

    def encode(self, delta: NodeDelta, from_revision: int, to_revision: int) -> list[bytes]:
        body = self._body(delta)
        if len(body) > DEFAULT_CHUNK_BYTES:
            return [
                dpb.ControllerMessage(delta=chunk).SerializeToString()
                for chunk in delta_chunks(delta, from_revision, to_revision)
            ]
        header = dpb.Delta(
            node=delta.node, from_revision=from_revision, to_revision=to_revision
        ).SerializeToString()
        payload = header + body
        return [_DELTA_TAG + varint(len(payload)) + payload]
