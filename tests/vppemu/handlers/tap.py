"""tapv2 plugin: tap_create_v3 / tap_delete_v2 / sw_interface_tap_v2_dump.

As VPP does, the host side is a real kernel tap device (see kernel.py), moved into
`host_namespace` under `host_if_name` with the host prefixes, gateways and MTU. VPP's side is
an interface named tap<id>, admin-down until set up.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..convert import U32_MAX, IndexPool
from ..errors import INVALID_SW_IF_INDEX, INVALID_VALUE, VALUE_EXIST, ApiError
from ..kernel import KernelError, KernelTap, create_tap
from .base import Fields, Registry

if TYPE_CHECKING:
    from ..state import VppState

handles = Registry()
# VNET_API_ERROR_SYSCALL_ERROR_1: what VPP answers when the host side cannot be made.
SYSCALL_ERROR_1 = -11
NO_PREFIX = {"address": "0.0.0.0", "len": 0}
NO_PREFIX6 = {"address": "::", "len": 0}


@dataclass
class Tap:
    sw_if_index: int
    id: int
    fields: Fields
    kernel: KernelTap | None = None


@dataclass
class TapState:
    by_index: dict[int, Tap] = field(default_factory=dict)
    ids: IndexPool = field(default_factory=IndexPool)

    def forget(self, sw_if_index: int) -> None:
        tap = self.by_index.pop(sw_if_index, None)
        if tap is not None:
            self.ids.put(tap.id)
            if tap.kernel is not None:
                tap.kernel.close()

    def close(self) -> None:
        """VPP went away: its tap file descriptors close and the host devices vanish."""
        for tap in self.by_index.values():
            if tap.kernel is not None:
                tap.kernel.close()

    def snapshot(self) -> list[Fields]:
        return [
            {"sw_if_index": i, "id": t.id, **t.fields} for i, t in sorted(self.by_index.items())
        ]


def _prefix(value: Any) -> str:
    return str(ipaddress.ip_interface(value))


@handles("tap_create_v3")
def tap_create_v3(state: VppState, mp: Any) -> Fields:
    taps = state.tap
    tap_id = mp.id
    if tap_id == U32_MAX:
        tap_id = taps.ids.get()
    elif tap_id in taps.ids:
        raise ApiError(VALUE_EXIST, f"tap id {tap_id} in use")
    else:
        taps.ids.take(tap_id)
    name = f"tap{tap_id}"
    host_name = mp.host_if_name if mp.host_if_name_set else name
    netns = mp.host_namespace if mp.host_namespace_set else None
    prefixes = []
    if mp.host_ip4_prefix_set:
        prefixes.append(_prefix(mp.host_ip4_prefix))
    if mp.host_ip6_prefix_set:
        prefixes.append(_prefix(mp.host_ip6_prefix))
    gateways = []
    if mp.host_ip4_gw_set:
        gateways.append(str(mp.host_ip4_gw))
    if mp.host_ip6_gw_set:
        gateways.append(str(mp.host_ip6_gw))
    if len(host_name) > 15:
        taps.ids.put(tap_id)
        raise ApiError(INVALID_VALUE, f"host_if_name {host_name!r} is too long")
    mtu = mp.host_mtu_size if mp.host_mtu_set else None
    try:
        kernel = create_tap(f"vppemu{tap_id}", host_name, netns, mtu, prefixes, gateways)
    except KernelError as exc:
        taps.ids.put(tap_id)
        raise ApiError(SYSCALL_ERROR_1, str(exc)) from exc
    sw_if_index = state.interfaces.add(name, "virtio", flags=0)
    state.interfaces.by_index[sw_if_index].tag = mp.tag
    taps.by_index[sw_if_index] = Tap(
        sw_if_index,
        tap_id,
        {
            "host_if_name": host_name,
            "host_namespace": netns or "",
            "host_mtu_size": mtu or 0,
            "host_ip4_prefix": prefixes[0] if mp.host_ip4_prefix_set else "",
            "tag": mp.tag,
        },
        kernel,
    )
    return {"sw_if_index": sw_if_index}


@handles("tap_delete_v2")
def tap_delete_v2(state: VppState, mp: Any) -> Fields:
    if mp.sw_if_index not in state.tap.by_index:
        raise ApiError(INVALID_SW_IF_INDEX, f"sw_if_index {mp.sw_if_index} is not a tap")
    state.delete_interface(mp.sw_if_index)
    return {}


@handles("sw_interface_tap_v2_dump")
def sw_interface_tap_v2_dump(state: VppState, mp: Any) -> list[Fields]:
    out = []
    for index, tap in sorted(state.tap.by_index.items()):
        if mp.sw_if_index not in (U32_MAX, index):
            continue
        host4 = tap.fields["host_ip4_prefix"]
        out.append(
            {
                "sw_if_index": index,
                "id": tap.id,
                "tx_ring_sz": 256,
                "rx_ring_sz": 256,
                "host_mtu_size": tap.fields["host_mtu_size"],
                "host_ip4_prefix": host4 or NO_PREFIX,
                "host_ip6_prefix": NO_PREFIX6,
                "tap_flags": 0,
                "dev_name": state.interfaces.by_index[index].name,
                "host_if_name": tap.fields["host_if_name"],
                "host_namespace": tap.fields["host_namespace"],
                "host_bridge": "",
            }
        )
    return out
