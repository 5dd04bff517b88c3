"""What the VPP descriptors share: the connection, the state records, the interface index."""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Generic

from ...descriptors import BaseDescriptor, KeyedT, PermanentError
from .. import VPP, dependencies_of
from .connection import VppConnection
from .state import StateStore

U32_MAX = 0xFFFFFFFF
PROTOCOLS = {"TCP": 6, "UDP": 17, "SCTP": 132}
PROTOCOL_NAMES = {number: name for name, number in PROTOCOLS.items()}

# Kinds whose VPP state has no dump: their records are valid only for the VPP process they
# were made against (control_ping's vpe_pid); after a VPP restart they are dropped.
UNDUMPABLE_KINDS = ("interface", "snat")


@dataclass
class InterfaceIndex:
    """VPP's interfaces by name, refreshed by every sw_interface_dump."""

    conn: VppConnection
    by_name: dict[str, int] = field(default_factory=dict)
    by_index: dict[int, str] = field(default_factory=dict)

    def refresh(self) -> list[Any]:
        rows = self.conn.dump("sw_interface_dump", sw_if_index=U32_MAX)
        self.by_name = {str(r.interface_name): int(r.sw_if_index) for r in rows}
        self.by_index = {index: name for name, index in self.by_name.items()}
        return rows

    def index_of(self, name: str) -> int:
        index = self.by_name.get(name)
        if index is None:
            self.refresh()
            index = self.by_name.get(name)
        if index is None:
            raise PermanentError(f"VPP has no interface {name!r}")
        return index

    def name_of(self, index: int) -> str | None:
        if index not in self.by_index:
            self.refresh()
        return self.by_index.get(index)


@dataclass
class VppContext:
    conn: VppConnection
    store: StateStore
    interfaces: InterfaceIndex
    allow_ipv6_frontends: bool = False
    acl_indices: dict[str, int] = field(default_factory=dict)  # Acl.name -> acl_index

    def check_epoch(self) -> None:
        """Forget the records of undumpable state made against another VPP process."""
        pid = self.conn.epoch()
        if self.store.vpp_pid != pid:
            for kind in UNDUMPABLE_KINDS:
                for key in self.store.keys(kind):
                    self.store.delete(kind, key)
            self.store.set_vpp_pid(pid)


class VppDescriptor(BaseDescriptor[KeyedT], Generic[KeyedT]):
    dataplane = VPP

    def __init__(self, ctx: VppContext) -> None:
        self.ctx = ctx

    @property
    def conn(self) -> VppConnection:
        return self.ctx.conn

    @property
    def store(self) -> StateStore:
        return self.ctx.store

    def dependencies(self, value: KeyedT) -> Iterable[str]:
        return dependencies_of(value)  # type: ignore[arg-type]


def ip_text(address: Any) -> str:
    """Canonical text of an address (str, ipaddress object or vpp_papi's decoded value)."""
    return _canonical(str(address))


@functools.lru_cache(maxsize=1 << 18)
def _canonical(address: str) -> str:
    return str(ipaddress.ip_address(address))


@functools.lru_cache(maxsize=1 << 18)
def ip_version(address: str) -> int:
    """4 or 6; ValueError for something that is not an address."""
    return ipaddress.ip_address(address).version


def net_text(prefix: Any) -> str:
    return str(ipaddress.ip_network(str(prefix), strict=False))


def is_ipv6(address: str) -> bool:
    return ipaddress.ip_address(address).version == 6


def check_family(what: str, address: str, version: int) -> None:
    try:
        found = ipaddress.ip_address(address).version
    except ValueError as exc:
        raise PermanentError(f"{what}: bad address {address!r}") from exc
    if found != version:
        raise PermanentError(f"{what}: {address} is not IPv{version}")
