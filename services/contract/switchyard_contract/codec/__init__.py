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

from .decode import ONEOF_FIELD, from_proto
from .encode import EncodeCache, to_proto
from .enums import DEFAULT_CHUNK_BYTES, CodecError
from .messages import (
    delta_chunks,
    delta_from_proto,
    delta_to_proto,
    snapshot_chunks,
    snapshot_from_proto,
    snapshot_to_proto,
)

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
