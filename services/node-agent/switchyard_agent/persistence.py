"""The last good configuration, kept on disk for fail-static restarts.

After every revision it applies, the agent writes the node's whole desired configuration and
that revision to `<state_dir>/last-config.snapshot`, atomically (temporary file, fsync,
rename, fsync of the directory). At start it loads that file and applies it through the
reconciler before connecting, so a node whose controller is away keeps (or, after a dataplane
restart, regains) its forwarding state, and says the revision in Hello so the controller can
answer with a delta.

Format: one header line, then the payload, a serialized `switchyard.v1.Snapshot` (node,
revision, objects) as the codec encodes it:

    switchyard-agent-config 1 <payload length> <sha256 of the payload, hex>\\n<payload>

The checksum catches a truncated or damaged file, which is moved aside (`*.corrupt`) and
ignored: the agent then starts without configuration and asks for a snapshot. The file holds
BGP passwords: it is created 0600 in a 0700 directory.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, cast

from google.protobuf.message import DecodeError

from switchyard.v1 import distribution_pb2 as dpb
from switchyard_contract.codec import snapshot_to_proto
from switchyard_contract.nodeconfig import NodeConfig, NodeObject
from switchyard_contract.wire import varint

from .sink import decode_objects

log = logging.getLogger(__name__)

FILE_NAME: Final = "last-config.snapshot"
_MAGIC: Final = b"switchyard-agent-config"
_VERSION: Final = b"1"


class CorruptStateError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class PersistedConfig:
    node: str
    revision: int
    objects: dict[str, NodeObject]
    # Objects that did not decode (written by another agent version): key -> message.
    skipped: dict[str, str] = field(default_factory=dict)


# Wire tags of Snapshot's fields: node = 1 (bytes), revision = 2 (varint), objects = 3.
_NODE_TAG: Final = b"\x0a"
_REVISION_TAG: Final = b"\x10"
_OBJECT_TAG: Final = b"\x1a"


class SnapshotEncoder:
    """Serializes a whole configuration as a Snapshot, re-encoding only the objects that
    changed since the previous call (objects are immutable: the same instance under the same
    key encodes the same). A one-object delta on a node with 50 000 objects then costs a join
    of cached bytes instead of encoding them all again."""

    def __init__(self) -> None:
        self._cache: dict[str, tuple[object, bytes]] = {}

    def encode(self, node: str, revision: int, objects: Mapping[str, object]) -> bytes:
        cache = self._cache
        fresh: dict[str, tuple[object, bytes]] = {}
        parts = [_NODE_TAG, varint(len(node.encode())), node.encode()]
        if revision:
            parts += [_REVISION_TAG, varint(revision)]
        for key, obj in objects.items():
            hit = cache.get(key)
            if hit is None or hit[0] is not obj:
                single = NodeConfig(node, {key: cast(NodeObject, obj)})
                message = snapshot_to_proto(single, revision).objects[0]
                hit = (obj, message.SerializeToString())
            fresh[key] = hit
            parts += [_OBJECT_TAG, varint(len(hit[1])), hit[1]]
        self._cache = fresh
        return b"".join(parts)


def encode(
    node: str, revision: int, objects: Mapping[str, object], encoder: SnapshotEncoder | None = None
) -> bytes:
    payload = (encoder or SnapshotEncoder()).encode(node, revision, objects)
    digest = hashlib.sha256(payload).hexdigest().encode()
    header = b" ".join((_MAGIC, _VERSION, str(len(payload)).encode(), digest))
    return header + b"\n" + payload


def decode(data: bytes) -> PersistedConfig:
    header, sep, payload = data.partition(b"\n")
    parts = header.split(b" ")
    if not sep or len(parts) != 4 or parts[0] != _MAGIC:
        raise CorruptStateError("not a switchyard-agent configuration file")
    if parts[1] != _VERSION:
        raise CorruptStateError(f"unknown format version {parts[1].decode(errors='replace')}")
    if not parts[2].isdigit() or int(parts[2]) != len(payload):
        raise CorruptStateError("truncated")
    if hashlib.sha256(payload).hexdigest().encode() != parts[3]:
        raise CorruptStateError("checksum mismatch")
    snapshot = dpb.Snapshot()
    try:
        snapshot.ParseFromString(payload)
    except DecodeError as exc:
        raise CorruptStateError(f"unreadable snapshot: {exc}") from None
    objects: dict[str, NodeObject] = {}
    skipped: dict[str, str] = {}
    decode_objects(snapshot.objects, objects, skipped)
    return PersistedConfig(snapshot.node, snapshot.revision, objects, skipped)


class ConfigStore:
    """Reads and writes the last configuration in a state directory. Blocking file I/O:
    called on the agent's worker thread."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.path = state_dir / FILE_NAME
        self._encoder = SnapshotEncoder()

    def save(self, node: str, revision: int, objects: Mapping[str, object]) -> None:
        data = encode(node, revision, objects, self._encoder)
        self.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{FILE_NAME}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        dir_fd = os.open(self.state_dir, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def load(self) -> PersistedConfig | None:
        """The saved configuration; None when there is none or it is damaged (then moved
        aside to `*.corrupt` for inspection)."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            config = decode(data)
        except CorruptStateError as exc:
            aside = self.path.with_name(FILE_NAME + ".corrupt")
            log.error("ignoring %s (%s); moved to %s", self.path, exc, aside)
            os.replace(self.path, aside)
            return None
        for key, message in sorted(config.skipped.items()):
            log.warning("persisted object %s skipped: %s", key or "<no key>", message)
        return config

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)
