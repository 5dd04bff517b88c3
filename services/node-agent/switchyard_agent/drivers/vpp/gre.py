"""GreTunnel -> a GRE tunnel (`gre_tunnel_add_del`, L3, point-to-point, table 0) from this
node to the LB node that encapsulates towards it (talk option 1), set admin-up.

A tunnel is identified by its endpoints, so deleting needs no index. Ours when recorded.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from switchyard_contract.nodeconfig import GreTunnel

from ...descriptors import Dumped
from .common import U32_MAX, VppDescriptor, ip_text
from .connection import VppApiError

KIND = GreTunnel.KIND
IF_ALREADY_EXISTS, NO_SUCH_ENTRY = -79, -6
ADMIN_UP = 1


def _tunnel(value: GreTunnel) -> dict[str, Any]:
    return {
        "type": 0,
        "mode": 0,
        "flags": 0,
        "session_id": 0,
        "instance": U32_MAX,
        "outer_table_id": 0,
        "sw_if_index": U32_MAX,
        "src": ip_text(value.local),
        "dst": ip_text(value.remote),
    }


class GreDescriptor(VppDescriptor[GreTunnel]):
    kind = KIND

    def equivalent(self, desired: GreTunnel, actual: GreTunnel) -> bool:
        return (ip_text(desired.local), ip_text(desired.remote)) == (
            ip_text(actual.local),
            ip_text(actual.remote),
        )

    def create(self, value: GreTunnel) -> object:
        recorded = self.store.get(KIND, value.key) is not None
        self.store.put(KIND, value.key, True)
        try:
            reply = self.conn.call("gre_tunnel_add_del", is_add=True, tunnel=_tunnel(value))
            index: int | None = int(reply.sw_if_index)
        except VppApiError as exc:
            if not (exc.retval == IF_ALREADY_EXISTS and recorded):
                if not recorded:
                    self.store.delete(KIND, value.key)
                raise
            index = self._index(value)
        if index is not None:
            self.conn.call("sw_interface_set_flags", sw_if_index=index, flags=ADMIN_UP)
        return index

    def delete(self, value: GreTunnel, metadata: object) -> None:
        try:
            self.conn.call("gre_tunnel_add_del", is_add=False, tunnel=_tunnel(value))
        except VppApiError as exc:
            if exc.retval != NO_SUCH_ENTRY:
                raise
        self.store.delete(KIND, value.key)

    def _rows(self) -> list[Any]:
        return self.conn.dump("gre_tunnel_dump", sw_if_index=U32_MAX)

    def _index(self, value: GreTunnel) -> int | None:
        for row in self._rows():
            t = row.tunnel
            if (ip_text(t.src), ip_text(t.dst)) == (ip_text(value.local), ip_text(value.remote)):
                return int(t.sw_if_index)
        return None

    def dump(self) -> Iterable[Dumped[GreTunnel]]:
        out: list[Dumped[GreTunnel]] = []
        seen: set[str] = set()
        for row in self._rows():
            t = row.tunnel
            if int(t.type) != 0 or int(t.outer_table_id) != 0:
                continue  # TEB/ERSPAN or another table: not something this driver makes
            value = GreTunnel(ip_text(t.src), ip_text(t.dst))
            owned = self.store.get(KIND, value.key) is not None
            if owned:
                seen.add(value.key)
            out.append(Dumped(value, owned=owned, metadata=int(t.sw_if_index)))
        for key in self.store.keys(KIND):
            if key not in seen:
                self.store.delete(KIND, key)
        return out
