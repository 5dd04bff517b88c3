"""Interfaces: the sw_interface table (local0 + interfaces added over the
control channel or created by tunnels), sw_interface_dump and set_flags, and
the interface events of subscribed clients (want_interface_events).

As VPP does, a subscribed client gets a sw_interface_event (no context, so
vpp_papi delivers it as an event) when an interface's admin/link flags change
and when it is deleted (deleted=1). An interface added up (the control
channel's default, like a tap that the CNI plugin creates and sets up) is
announced by the event of its coming up."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..convert import U32_MAX, IndexPool
from ..errors import INVALID_SW_IF_INDEX, ApiError
from .base import Fields, Registry

if TYPE_CHECKING:
    from ..state import VppState

ADMIN_UP = 1
LINK_UP = 2

handles = Registry()


@dataclass
class Interface:
    sw_if_index: int
    name: str
    dev_type: str
    flags: int = 0
    tag: str = ""
    mtu: int = 9000
    mac: bytes = b"\x00" * 6

    def details(self) -> Fields:
        return {
            "sw_if_index": self.sw_if_index,
            "sup_sw_if_index": self.sw_if_index,
            "l2_address": self.mac,
            "flags": self.flags,
            "type": 0,
            "link_duplex": 2 if self.dev_type != "local" else 0,
            "link_mtu": min(self.mtu, 0xFFFF),
            "mtu": [self.mtu, self.mtu, self.mtu, 0],
            "interface_name": self.name,
            "interface_dev_type": self.dev_type,
            "tag": self.tag,
        }


@dataclass
class InterfaceTable:
    by_index: dict[int, Interface] = field(default_factory=dict)
    pool: IndexPool = field(default_factory=IndexPool)
    subscribers: dict[int, int] = field(default_factory=dict)  # client_index -> pid
    events: list[Fields] = field(default_factory=list)  # to send: the server drains it

    def __post_init__(self) -> None:
        if not self.by_index:
            self.add("local0", "local", flags=0)

    def add(self, name: str, dev_type: str, flags: int = ADMIN_UP | LINK_UP) -> int:
        if any(i.name == name for i in self.by_index.values()):
            raise ValueError(f"interface {name!r} exists")
        index = self.pool.get()
        mac = bytes([0x02, 0xFE, 0, 0, (index >> 8) & 0xFF, index & 0xFF]) if index else bytes(6)
        self.by_index[index] = Interface(index, name, dev_type, flags=flags, mac=mac)
        if flags:
            self.notify(index, flags)
        return index

    def remove(self, sw_if_index: int) -> None:
        iface = self.by_index.pop(sw_if_index)
        self.pool.put(sw_if_index)
        self.notify(sw_if_index, iface.flags, deleted=True)

    def notify(self, sw_if_index: int, flags: int, deleted: bool = False) -> None:
        if self.subscribers:
            event = {"sw_if_index": sw_if_index, "flags": flags, "deleted": deleted}
            self.events.append(event)

    def take_events(self) -> list[tuple[int, Fields]]:
        """(client_index, fields) of every event owed to a subscriber, oldest first."""
        events, self.events = self.events, []
        return [
            (client, {**event, "client_index": client, "pid": pid})
            for event in events
            for client, pid in self.subscribers.items()
        ]

    def validate(self, sw_if_index: int) -> Interface:
        iface = self.by_index.get(sw_if_index)
        if iface is None:
            raise ApiError(INVALID_SW_IF_INDEX, f"sw_if_index {sw_if_index}")
        return iface

    def snapshot(self) -> list[Fields]:
        return [
            {"sw_if_index": i.sw_if_index, "name": i.name, "dev_type": i.dev_type, "flags": i.flags}
            for i in sorted(self.by_index.values(), key=lambda i: i.sw_if_index)
        ]


@handles("sw_interface_dump")
def sw_interface_dump(state: VppState, mp: Any) -> list[Fields]:
    table = state.interfaces
    if mp.sw_if_index != U32_MAX:
        iface = table.by_index.get(mp.sw_if_index)
        return [iface.details()] if iface else []
    wanted = mp.name_filter.lower() if mp.name_filter_valid else None
    return [
        i.details()
        for _, i in sorted(table.by_index.items())
        if wanted is None or wanted in i.name.lower()
    ]


@handles("sw_interface_set_flags")
def sw_interface_set_flags(state: VppState, mp: Any) -> Fields:
    iface = state.interfaces.validate(mp.sw_if_index)
    admin = int(mp.flags) & ADMIN_UP
    flags = admin | (LINK_UP if admin and iface.dev_type != "local" else 0)
    if flags != iface.flags:
        iface.flags = flags
        state.interfaces.notify(iface.sw_if_index, flags)
    return {}


@handles("want_interface_events")
def want_interface_events(state: VppState, mp: Any) -> Fields:
    if mp.enable_disable:
        state.interfaces.subscribers[mp.client_index] = mp.pid
    else:
        state.interfaces.subscribers.pop(mp.client_index, None)
    return {}


@handles("sw_interface_tag_add_del")
def sw_interface_tag_add_del(state: VppState, mp: Any) -> Fields:
    iface = state.interfaces.validate(mp.sw_if_index)
    iface.tag = mp.tag if mp.is_add else ""
    return {}
