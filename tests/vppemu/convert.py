"""Small helpers shared by the handlers: value conversion and index pools."""

from __future__ import annotations

import enum
import heapq
import ipaddress
from typing import Any

U32_MAX = 0xFFFFFFFF


def to_dict(value: Any) -> Any:
    """Recursively turn vpp_papi's unpacked namedtuples into dicts (which is
    what its packer accepts back) and enums into plain ints."""
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return {k: to_dict(v) for k, v in zip(value._fields, value, strict=True)}
    if isinstance(value, list):
        return [to_dict(v) for v in value]
    if isinstance(value, enum.Enum):
        return int(value.value)
    return value


def jsonable(value: Any) -> Any:
    """Make a value JSON-serialisable for state snapshots."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return jsonable(to_dict(value))
    if isinstance(value, list | tuple | set | frozenset):
        items = [jsonable(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, set | frozenset) else items
    if isinstance(value, enum.Enum):
        return int(value.value)
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    if isinstance(
        value,
        ipaddress.IPv4Address
        | ipaddress.IPv6Address
        | ipaddress.IPv4Network
        | ipaddress.IPv6Network
        | ipaddress.IPv4Interface
        | ipaddress.IPv6Interface,
    ):
        return str(value)
    if isinstance(value, bytes | bytearray):
        return value.hex()
    return str(value)


class IndexPool:
    """Index allocation like a VPP pool: the lowest free index is reused."""

    def __init__(self, first: int = 0) -> None:
        self._next = first
        self._free: list[int] = []
        self._used: set[int] = set()

    def get(self) -> int:
        index = heapq.heappop(self._free) if self._free else self._next
        if index == self._next:
            self._next += 1
        self._used.add(index)
        return index

    def take(self, index: int) -> None:
        """Claim a specific index (e.g. a requested instance number)."""
        if index in self._used:
            raise ValueError(f"index {index} in use")
        while self._next <= index:
            if self._next != index:
                heapq.heappush(self._free, self._next)
            self._next += 1
        if index in self._free:
            self._free.remove(index)
            heapq.heapify(self._free)
        self._used.add(index)

    def put(self, index: int) -> None:
        self._used.discard(index)
        heapq.heappush(self._free, index)

    def __contains__(self, index: object) -> bool:
        return index in self._used
