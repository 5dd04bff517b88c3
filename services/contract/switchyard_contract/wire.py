"""Serialized ControllerMessages assembled from shared parts.

Protobuf defines that concatenated encodings of one message type parse as their merge (scalars:
last wins; repeated fields: appended). So a Delta's changes, identical for every node that gets
them, are serialized once per fan-out, and each stream only adds its own small header (node,
revisions). Wrapping in ControllerMessage is a length-delimited field: tag + varint length.
"""

from __future__ import annotations

from collections.abc import Mapping

from switchyard.v1 import distribution_pb2 as dpb

from .codec import DEFAULT_CHUNK_BYTES, delta_chunks, delta_to_proto, snapshot_chunks, to_proto
from .nodeconfig import NodeConfig, NodeDelta, NodeObject

# ControllerMessage field numbers (distribution.proto), wire type 2 (length-delimited).
_SNAPSHOT_TAG = bytes([(1 << 3) | 2])
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


class SnapshotEncoder:
    """Snapshots of many nodes that share the cluster-wide objects: those are serialized once
    (per version of the shared mapping) into chunk-sized pieces; a node's snapshot is its own
    objects plus those pieces, each message with the node's header."""

    def __init__(self, max_bytes: int = DEFAULT_CHUNK_BYTES) -> None:
        self.max_bytes = max_bytes
        self._shared: tuple[Mapping[str, NodeObject], list[bytes]] | None = None

    def _pieces(self, shared: Mapping[str, NodeObject]) -> list[bytes]:
        if self._shared is None or self._shared[0] is not shared:
            pieces: list[bytes] = []
            current: list[bytes] = []
            size = 0
            for obj in shared.values():
                # A one-object Snapshot encodes exactly one `objects` entry of the message.
                entry = dpb.Snapshot(objects=[to_proto(obj)]).SerializeToString()
                current.append(entry)
                size += len(entry)
                if size >= self.max_bytes:
                    pieces.append(b"".join(current))
                    current, size = [], 0
            pieces.append(b"".join(current))
            self._shared = (shared, pieces)
        return self._shared[1]

    def encode(
        self,
        node: str,
        revision: int,
        own: Mapping[str, NodeObject],
        shared: Mapping[str, NodeObject],
    ) -> list[bytes]:
        if any(key in shared for key in own):  # shadowing: no shared pieces, the plain way
            merged = NodeConfig(node, {**shared, **own})
            return [
                dpb.ControllerMessage(snapshot=chunk).SerializeToString()
                for chunk in snapshot_chunks(merged, revision)
            ]
        pieces = list(self._pieces(shared))
        first = dpb.Snapshot()
        for obj in own.values():
            first.objects.add().CopyFrom(to_proto(obj))
        pieces[0] = first.SerializeToString() + pieces[0]
        messages = []
        for index, piece in enumerate(pieces):
            header = dpb.Snapshot(node=node, revision=revision, continued=index < len(pieces) - 1)
            payload = header.SerializeToString() + piece
            messages.append(_SNAPSHOT_TAG + varint(len(payload)) + payload)
        return messages
