"""What the pod-tap and pod-memif descriptors share: finding a pod interface by its tag, and
bringing it up (admin-up, unnumbered to the configured interface).

VPP has no dump of a tap's or memif's desired settings (addresses of the host side, the
gateway, the socket path), so what was created is recorded; an interface is recognised in
VPP by its tag (`switchyard-cni:<container>/<ifname>`), which survives nothing but VPP itself.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Iterable
from typing import Any, TypeVar

from ...descriptors import Dumped, TransientError
from .common import U32_MAX, VppContext
from .connection import VppApiError

ADMIN_UP = 1
T = TypeVar("T")


def tagged_index(ctx: VppContext, tag: str) -> int | None:
    """The sw_if_index of the interface carrying `tag`, from a fresh dump."""
    for row in ctx.interfaces.refresh():
        if str(row.tag) == tag:
            return int(row.sw_if_index)
    return None


def bring_up(ctx: VppContext, sw_if_index: int, unnumbered_to: str) -> None:
    if unnumbered_to:
        lender = ctx.interfaces.by_name.get(unnumbered_to)
        if lender is None:
            # Retried: after a VPP restart its startup config may still be creating it.
            raise TransientError(
                f"unnumberedInterface {unnumbered_to!r} does not exist in VPP: create it "
                "(e.g. a loopback holding the pods' gateway address) or leave it out"
            )
        ctx.conn.call(
            "sw_interface_set_unnumbered",
            sw_if_index=lender,
            unnumbered_sw_if_index=sw_if_index,
            is_add=True,
        )
    ctx.conn.call("sw_interface_set_flags", sw_if_index=sw_if_index, flags=ADMIN_UP)


def host_routes(ctx: VppContext, sw_if_index: int, prefixes: Iterable[str], add: bool) -> None:
    """A host route per pod address via its interface (table 0): VPP forwards to the pod
    without resolving the address on an unnumbered link. Removing a missing one is fine."""
    for prefix in prefixes:
        address = ipaddress.ip_interface(prefix).ip
        v6 = address.version == 6
        path = {
            "sw_if_index": sw_if_index,
            "table_id": 0,
            "rpf_id": 0,
            "weight": 1,
            "preference": 0,
            "type": 0,
            "flags": 0,
            "proto": int(v6),
            "nh": {
                "address": {"ip6" if v6 else "ip4": str(address)},
                "via_label": 0,
                "obj_id": 0,
                "classify_table_index": U32_MAX,
            },
            "n_labels": 0,
            "label_stack": [{}] * 16,
        }
        route = {
            "table_id": 0,
            "prefix": f"{address}/{address.max_prefixlen}",
            "n_paths": 1 if add else 0,
            "paths": [path] if add else [],
        }
        try:
            ctx.conn.call("ip_route_add_del", is_add=add, is_multipath=False, route=route)
        except VppApiError as exc:
            if add or exc.retval != -6:  # NO_SUCH_ENTRY on removal: already gone
                raise


def record_of(value: Any, sw_if_index: int) -> dict[str, Any]:
    return {
        "sw_if_index": sw_if_index,
        "name": value.vpp_name,
        "tag": value.tag,
        "value": dataclasses.asdict(value),
    }


def dump_recorded(ctx: VppContext, kind: str, value_type: type[T]) -> list[Dumped[T]]:
    """The recorded pod interfaces VPP still has (same tag and name). A record whose interface
    is gone (VPP restarted) is dropped, so the reconciler creates the interface again."""
    rows = ctx.interfaces.refresh()
    by_tag = {str(r.tag): (int(r.sw_if_index), str(r.interface_name)) for r in rows}
    out: list[Dumped[T]] = []
    for key, record in list(ctx.store.items(kind)):
        found = by_tag.get(record["tag"])
        if found is None or found[1] != record["name"]:
            ctx.store.delete(kind, key)
            continue
        fields = {k: tuple(v) if isinstance(v, list) else v for k, v in record["value"].items()}
        out.append(Dumped(value_type(**fields), True, found[0]))
    return out


def delete_quietly(ctx: VppContext, message: str, sw_if_index: int) -> None:
    """Remove an interface VPP may already have lost (INVALID_SW_IF_INDEX is success)."""
    try:
        ctx.conn.call(message, sw_if_index=sw_if_index)
    except VppApiError as exc:
        if exc.retval != -2:
            raise


__all__ = [
    "U32_MAX",
    "bring_up",
    "delete_quietly",
    "dump_recorded",
    "host_routes",
    "record_of",
    "tagged_index",
]
