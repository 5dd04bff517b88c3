"""Fast paths around vpp_papi's serializer, for pipelined throughput.

vpp_papi's generic unpack costs ~70 us for a two-path cnat_translation_update,
which alone would cap the emulator near 10k msgs/s. All decoding is still done
by vpp_papi's own type objects; this module only

* memoises every fixed-size sub-structure (endpoints, addresses, prefixes,
  enums, ...) by its exact bytes, so a repeated endpoint is decoded once, and
* packs replies whose fields are all scalars with one struct built from the
  formats of vpp_papi's own scalar packers (same bytes, checked in the tests
  against ``msg.pack``).

Anything it does not understand falls back to ``msg.unpack`` / ``msg.pack``.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

from vpp_papi import vpp_format
from vpp_papi.vpp_serializer import (
    BaseTypes,
    FixedList,
    FixedList_u8,
    String,
    VLAList,
    VPPEnumType,
    VPPType,
    VPPTypeAlias,
    VPPUnionType,
)

Decoder = Callable[[bytes, int, list[Any]], tuple[Any, int]]
MEMO_LIMIT = 200_000


def is_fixed(p: Any) -> bool:
    """Whether a vpp_papi packer always has the same encoded size."""
    if isinstance(p, BaseTypes | FixedList_u8 | VPPEnumType):
        return True
    if isinstance(p, String):
        return bool(p.fixed)
    if isinstance(p, VPPTypeAlias):
        return is_fixed(p.packer)
    if isinstance(p, FixedList):
        return is_fixed(p.packer)
    if isinstance(p, VPPUnionType):
        return all(is_fixed(m) for m in p.packers.values())
    if isinstance(p, VPPType):
        return all(is_fixed(c) for c in p.packers)
    return False


def _memo_decoder(size: int, inner: Decoder) -> Decoder:
    """Remember what inner decoded, keyed by the exact bytes of the field."""
    memo: dict[bytes, Any] = {}

    def decode(data: bytes, offset: int, result: list[Any]) -> tuple[Any, int]:
        end = offset + size
        key = data[offset:end]
        value = memo.get(key)
        if value is None:
            value, _ = inner(data, offset, result)
            if len(memo) >= MEMO_LIMIT:
                memo.clear()
            memo[key] = value
        return value, end

    return decode


def _scalar_decoder(p: BaseTypes) -> Decoder:
    unpack_from = p.packer.unpack_from
    size: int = p.size

    def decode(data: bytes, offset: int, result: list[Any]) -> tuple[Any, int]:
        return unpack_from(data, offset)[0], offset + size

    return decode


def _vla_decoder(p: VLAList, ntc: bool) -> Decoder:
    element = p.packer
    if not is_fixed(element) or (element.size == 1 and p.field_type == "u8"):
        return _fallback_decoder(p, ntc)
    decode_element = _packer_decoder(element, ntc)
    index: int = p.index

    def decode(data: bytes, offset: int, result: list[Any]) -> tuple[Any, int]:
        out = []
        for _ in range(result[index]):
            value, offset = decode_element(data, offset, result)
            out.append(value)
        return out, offset

    return decode


def _fallback_decoder(p: Any, ntc: bool) -> Decoder:
    def decode(data: bytes, offset: int, result: list[Any]) -> tuple[Any, int]:
        value, size = p.unpack(data, offset, result, ntc=ntc)
        if type(value) is tuple and len(value) == 1:
            value = value[0]
        return value, offset + size

    return decode


def _packer_decoder(p: Any, ntc: bool) -> Decoder:
    if type(p) is BaseTypes:
        return _scalar_decoder(p)
    if type(p) is VPPType and is_fixed(p):
        # field by field, so that a new endpoint re-uses its memoised parts
        return _memo_decoder(p.size, _type_decoder(p, ntc))
    if is_fixed(p):
        return _memo_decoder(p.size, _fallback_decoder(p, ntc))
    if isinstance(p, VLAList):
        return _vla_decoder(p, ntc)
    if type(p) is VPPType:
        return _type_decoder(p, ntc)
    return _fallback_decoder(p, ntc)


def _type_decoder(t: VPPType, ntc: bool) -> Decoder:
    """A variable-size struct, decoded field by field as VPPType.unpack does."""
    conversion = None
    if not ntc and t.name in vpp_format.conversion_unpacker_table:
        conversion = vpp_format.conversion_unpacker_table[t.name]
        ntc = True
    steps = [_packer_decoder(p, ntc) for p in t.packers]
    make = t.tuple._make

    def decode(data: bytes, offset: int, result: list[Any]) -> tuple[Any, int]:
        fields: list[Any] = []
        for step in steps:
            value, offset = step(data, offset, fields)
            fields.append(value)
        value = make(fields)
        return (conversion(value) if conversion else value), offset

    return decode


def message_decoder(msg: Any) -> Callable[[bytes], Any]:
    decode = _type_decoder(msg, False)

    def decode_message(data: bytes) -> Any:
        return decode(data, 0, [])[0]

    return decode_message


def _scalar_format(p: Any) -> tuple[str, Any] | None:
    """struct format char(s) and default of a scalar field, else None."""
    if type(p) is BaseTypes and p._type not in ("string", "header"):
        default = p.options.get("default", 0) if p.options else 0
        return p.packer.format.lstrip(">="), default
    return None


def message_encoder(msg: Any) -> Callable[[dict[str, Any]], bytes]:
    """One struct.pack for all-scalar messages (most replies), else msg.pack."""
    formats = [_scalar_format(p) for p in msg.packers]
    if (
        not all(formats)
        or "f" in "".join(f[0] for f in formats if f)
        or "d" in "".join(f[0] for f in formats if f)
    ):
        pack: Callable[[dict[str, Any]], bytes] = msg.pack
        return pack
    fields = list(zip(msg.fields, [f[1] for f in formats if f], strict=True))
    packer = struct.Struct(">" + "".join(f[0] for f in formats if f))

    def encode(values: dict[str, Any]) -> bytes:
        return packer.pack(*[values.get(name, default) for name, default in fields])

    return encode
