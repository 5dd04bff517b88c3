"""VPP's socket transport framing: a 16-byte big-endian header (">QII" =
(0, data_length, 0)) before each message. Requests may be pipelined."""

from __future__ import annotations

import struct
from collections.abc import Iterable

HEADER = struct.Struct(">QII")


def split_frames(buf: bytearray) -> tuple[list[bytes], int]:
    """Complete messages at the start of buf, and how many bytes they used."""
    frames: list[bytes] = []
    offset = 0
    size = HEADER.size
    end = len(buf)
    while end - offset >= size:
        _, length, _ = HEADER.unpack_from(buf, offset)
        start = offset + size
        if end - start < length:
            break
        frames.append(bytes(buf[start : start + length]))
        offset = start + length
    return frames, offset


def frame_all(payloads: Iterable[bytes]) -> bytes:
    parts: list[bytes] = []
    for p in payloads:
        parts.append(HEADER.pack(0, len(p), 0))
        parts.append(p)
    return b"".join(parts)
