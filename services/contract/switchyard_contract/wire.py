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
# Delta field numbers: node (1, length-delimited), from_revision (2) and to_revision (3), varints.
_NODE_TAG = bytes([(1 << 3) | 2])
_FROM_TAG = bytes([2 << 3])
_TO_TAG = bytes([3 << 3])


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
    """Encodes deltas for many streams, sharing the body of a delta between them.

    Within a round most streams get the same body between the same revisions, so that part
    (revisions + body) is assembled once too; a stream adds only its node field, kept per node
    name across rounds."""

    NODE_FIELDS_KEPT = 100_000  # names of nodes that came and went are forgotten past this

    def __init__(self) -> None:
        # id(upserts), id(removals) -> (the objects themselves, so ids stay theirs; the body)
        self._bodies: dict[tuple[int, int], tuple[object, object, bytes]] = {}
        # id(upserts), id(removals), from, to -> revision fields + body (ids held by _bodies)
        self._tails: dict[tuple[int, int, int, int], bytes] = {}
        self._node_fields: dict[str, bytes] = {}

    def new_round(self) -> None:
        """Called at each fan-out: bodies of older deltas are no longer shared."""
        self._bodies.clear()
        self._tails.clear()

    def _body(self, delta: NodeDelta) -> bytes:
        ident = (id(delta.upserts), id(delta.removals))
        cached = self._bodies.get(ident)
        if cached is None:
            body = delta_to_proto(NodeDelta("", delta.upserts, delta.removals), 0, 0)
            cached = (delta.upserts, delta.removals, body.SerializeToString())
            self._bodies[ident] = cached
        return cached[2]

    def _node_field(self, node: str) -> bytes:
        field = self._node_fields.get(node)
        if field is None:
            if len(self._node_fields) >= self.NODE_FIELDS_KEPT:
                self._node_fields.clear()
            name = node.encode()
            # Delta.node (field 1, length-delimited); proto3 leaves an empty string out.
            field = _NODE_TAG + varint(len(name)) + name if name else b""
            self._node_fields[node] = field
        return field

    def encode(self, delta: NodeDelta, from_revision: int, to_revision: int) -> list[bytes]:
        ident = (id(delta.upserts), id(delta.removals), from_revision, to_revision)
        tail = self._tails.get(ident)
        if tail is None:
            body = self._body(delta)
            if len(body) > DEFAULT_CHUNK_BYTES:
                return [
                    dpb.ControllerMessage(delta=chunk).SerializeToString()
                    for chunk in delta_chunks(delta, from_revision, to_revision)
                ]
            # Delta.from_revision and .to_revision (fields 2 and 3, varints; 0 is left out),
            # in field order before the body's upserts (4) and removals (5), as protobuf does.
            tail = (
                (_FROM_TAG + varint(from_revision) if from_revision else b"")
                + (_TO_TAG + varint(to_revision) if to_revision else b"")
                + body
            )
            self._tails[ident] = tail
        node = self._node_field(delta.node)
        return [_DELTA_TAG + varint(len(node) + len(tail)) + node + tail]


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
