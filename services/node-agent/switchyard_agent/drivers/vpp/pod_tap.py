"""PodTap -> `tap_create_v3` with the host side (CNI_IFNAME) inside the pod's network
namespace: VPP itself moves it there and sets its MTU, addresses and default gateway. VPP's
side (tap<id>) is tagged, made unnumbered to the configured interface, and set admin-up.

A create that fails half-way deletes the tap it made: a failed CNI ADD leaves nothing behind.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from ...attachments.objects import TAP_KIND, PodTap
from ...descriptors import Dumped
from .common import VppDescriptor
from .pod_interfaces import (
    bring_up,
    delete_quietly,
    dump_recorded,
    host_routes,
    record_of,
    tagged_index,
)


class PodTapDescriptor(VppDescriptor[PodTap]):
    kind = TAP_KIND

    def dependencies(self, value: PodTap) -> Iterable[str]:
        return ()

    def provides(self, value: PodTap) -> Iterable[str]:
        return value.provides()

    def create(self, value: PodTap) -> object:
        stale = tagged_index(self.ctx, value.tag)
        if stale is not None:  # a retried create, or a tap an earlier agent left half-made
            delete_quietly(self.ctx, "tap_delete_v2", stale)
        fields: dict[str, object] = {
            "id": value.tap_id,
            "use_random_mac": True,
            "num_rx_queues": 1,
            "num_tx_queues": 1,
            "host_if_name_set": True,
            "host_if_name": value.ifname,
            "host_namespace_set": True,
            "host_namespace": value.netns,
            "host_mtu_set": bool(value.mtu),
            "host_mtu_size": value.mtu,
            "tag": value.tag,
        }
        for prefix in value.prefixes:
            family = ipaddress.ip_interface(prefix).version
            fields[f"host_ip{family}_prefix_set"] = True
            fields[f"host_ip{family}_prefix"] = prefix
        for gateway in value.gateways:
            family = ipaddress.ip_address(gateway).version
            fields[f"host_ip{family}_gw_set"] = True
            fields[f"host_ip{family}_gw"] = gateway
        reply = self.conn.call("tap_create_v3", **fields)
        index = int(reply.sw_if_index)
        try:
            self.ctx.interfaces.refresh()
            bring_up(self.ctx, index, value.unnumbered_to)
            host_routes(self.ctx, index, value.prefixes, add=True)
        except Exception:
            delete_quietly(self.ctx, "tap_delete_v2", index)
            raise
        self.store.put(self.kind, value.key, record_of(value, index))
        return index

    def delete(self, value: PodTap, metadata: object) -> None:
        index = tagged_index(self.ctx, value.tag)
        if index is not None:
            host_routes(self.ctx, index, value.prefixes, add=False)
            delete_quietly(self.ctx, "tap_delete_v2", index)
        self.store.delete(self.kind, value.key)

    def dump(self) -> Iterable[Dumped[PodTap]]:
        return dump_recorded(self.ctx, self.kind, PodTap)
