"""Whole configurations: snapshots and deltas, in one message or in size-bounded chunks."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

from switchyard.v1 import distribution_pb2 as dpb
from switchyard.v1 import nodeconfig_pb2 as pb

from .. import nodeconfig as nc
from .decode import from_proto
from .encode import EncodeCache, add_object, encode_into
from .enums import DEFAULT_CHUNK_BYTES, CodecError


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
            encode_into(obj, key, add())
    else:
        for key, obj in config.objects.items():
            add_object(objects, key, obj, cache)
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
        size += add_object(msg.objects, key, obj, cache)
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
        add_object(msg.upserts, key, obj, cache)
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
        size += add_object(msg.upserts, key, obj, cache)
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
