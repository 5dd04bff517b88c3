"""LbVip -> the lb plugin's VIP (`lb_add_del_vip_v2`: encap gre4/gre6/l3dsr + dscp, the
consistent-hash table length) and its application servers.

Servers: with weighted servers (`lb_add_del_as_v2` + `lb_as_set_weight`, VPP after 26.06)
a weight-0 server stays with weight 0 (no new flows, established ones keep their sticky
bucket: a drain). Without them, `lb_add_del_as`, and a drain is a delete *without* flush
(established flows keep going until they time out); a server that is removed altogether is
deleted with flush. Deleting a VIP removes its servers first, then the VIP.

Dumps: `lb_vip_dump` ignores its filter and `lb_as_dump` with a filter finds nothing for IPv4
VIPs, so everything is dumped once and filtered here; a deleted server lingers with flags 0
until VPP's garbage collection (absent for us). VIPs are ours when recorded in the state file.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any, cast

from switchyard_contract.nodeconfig import LbEncap, LbProtocol, LbServer, LbVip

from ...descriptors import Dumped, PermanentError
from .common import VppDescriptor, ip_text, net_text
from .connection import VppApiError

KIND = LbVip.KIND
ENCAPS: dict[str, int] = {"gre4": 0, "gre6": 1, "l3dsr": 2}
ENCAP_NAMES = {number: name for name, number in ENCAPS.items()}
PROTOS: dict[str, int] = {"TCP": 6, "UDP": 17, "Any": 255}
PROTO_NAMES = {number: name for name, number in PROTOS.items()}
AS_USED = 1
NO_SUCH_ENTRY, VALUE_EXIST = -6, -81


class LbVipDescriptor(VppDescriptor[LbVip]):
    kind = KIND

    @property
    def weighted(self) -> bool:
        return self.conn.has("lb_add_del_as_v2") and self.conn.has("lb_as_set_weight")

    def _servers(self, value: LbVip) -> tuple[tuple[str, int], ...]:
        """What VPP can hold of the servers: (address, weight), sorted."""
        if self.weighted:
            return tuple(sorted((ip_text(s.address), s.weight) for s in value.servers))
        # unweighted: only presence; a draining server is deleted
        return tuple(sorted((ip_text(s.address), 1) for s in value.servers if s.weight > 0))

    def _norm(self, value: LbVip) -> tuple[object, ...]:
        return (
            net_text(value.prefix),
            value.protocol,
            value.port,
            value.encap,
            value.dscp if value.encap == "l3dsr" else None,
            value.new_flows_table_length,
            self._servers(value),
        )

    def equivalent(self, desired: LbVip, actual: LbVip) -> bool:
        return self._norm(desired) == self._norm(actual)

    def can_update(self, old: LbVip, new: LbVip) -> bool:
        # Servers change in place; the VIP's own settings need delete + add.
        return self._norm(old)[:6] == self._norm(new)[:6]

    def _vip(self, value: LbVip) -> dict[str, Any]:
        if value.protocol not in PROTOS:
            raise PermanentError(f"unsupported lb protocol {value.protocol!r}")
        port = 0 if value.protocol == "Any" else value.port
        return {"pfx": net_text(value.prefix), "protocol": PROTOS[value.protocol], "port": port}

    def create(self, value: LbVip) -> object:
        if value.encap not in ENCAPS:
            raise PermanentError(f"unsupported encap {value.encap!r}")
        for server in value.servers:
            if not 0 <= server.weight <= 100:
                raise PermanentError(f"server {server.address}: VPP lb weights are 0-100")
        recorded = self.store.get(KIND, value.key) is not None
        try:
            self.conn.call(
                "lb_add_del_vip_v2",
                **self._vip(value),
                encap=ENCAPS[value.encap],
                dscp=(value.dscp or 0) if value.encap == "l3dsr" else 0,
                new_flows_table_length=value.new_flows_table_length,
                is_del=False,
            )
        except VppApiError as exc:
            if not (exc.retval == VALUE_EXIST and recorded):  # ours, from an interrupted try
                raise
        self.store.put(KIND, value.key, {"load_balancer": value.load_balancer})
        present = self._present(value) if recorded else {}
        self._set_servers(value, present)
        return None

    def update(self, old: LbVip, new: LbVip, metadata: object) -> object:
        present = self._present(new)
        self._set_servers(new, present)
        self.store.put(KIND, new.key, {"load_balancer": new.load_balancer})
        return None

    def _set_servers(self, value: LbVip, present: dict[str, int]) -> None:
        vip = self._vip(value)
        wanted = dict(self._servers(value))
        for address, weight in sorted(wanted.items()):
            if address not in present:
                if self.weighted:
                    self.conn.call(
                        "lb_add_del_as_v2", **vip, as_address=address, weight=weight, is_del=False
                    )
                else:
                    self.conn.call("lb_add_del_as", **vip, as_address=address, is_del=False)
            elif self.weighted and present[address] != weight:
                self.conn.call("lb_as_set_weight", **vip, as_address=address, weight=weight)
        draining = {ip_text(s.address) for s in value.servers if s.weight == 0}
        for address in sorted(set(present) - set(wanted)):
            # A drain keeps established flows (no flush); a removed server is flushed.
            self._del_server(vip, address, flush=address not in draining)

    def _del_server(self, vip: dict[str, Any], address: str, flush: bool) -> None:
        try:
            self.conn.call("lb_add_del_as", **vip, as_address=address, is_del=True, is_flush=flush)
        except VppApiError as exc:
            if exc.retval != NO_SUCH_ENTRY:
                raise

    def delete(self, value: LbVip, metadata: object) -> None:
        vip = self._vip(value)
        for address in sorted(self._present(value)):
            self._del_server(vip, address, flush=True)
        try:
            self.conn.call("lb_add_del_vip_v2", **vip, is_del=True)
        except VppApiError as exc:
            if exc.retval != NO_SUCH_ENTRY:
                raise
        self.store.delete(KIND, value.key)

    # ------------------------------------------------------------------ dumps

    def _all_servers(self) -> dict[tuple[str, int, int], dict[str, int]]:
        """(prefix, protocol, port) -> {address: weight} of the servers in use."""
        name = "lb_as_v2_dump" if self.conn.has("lb_as_v2_dump") else "lb_as_dump"
        out: dict[tuple[str, int, int], dict[str, int]] = {}
        for row in self.conn.dump(name):
            if not int(row.flags) & AS_USED:
                continue  # deleted, lingering until VPP's garbage collection
            key = (net_text(row.vip.pfx), int(row.vip.protocol), int(row.vip.port))
            weight = int(getattr(row, "weight", 1))
            out.setdefault(key, {})[ip_text(row.app_srv)] = weight
        return out

    def _present(self, value: LbVip) -> dict[str, int]:
        vip = self._vip(value)
        return self._all_servers().get((vip["pfx"], vip["protocol"], vip["port"]), {})

    def dump(self) -> Iterable[Dumped[LbVip]]:
        servers = self._all_servers()
        out: list[Dumped[LbVip]] = []
        seen: set[str] = set()
        for row in self.conn.dump("lb_vip_dump"):
            encap = ENCAP_NAMES.get(int(row.encap))
            proto = PROTO_NAMES.get(int(row.vip.protocol))
            if encap is None or proto is None:
                continue  # nat4/nat6 or another protocol: nothing this driver makes
            prefix = net_text(row.vip.pfx)
            port = int(row.vip.port)
            length = int(row.flow_table_length) or 65536  # a u16 in the details
            found = servers.get((prefix, int(row.vip.protocol), port), {})
            value = LbVip(
                prefix=prefix,
                protocol=cast(LbProtocol, proto),
                port=port,
                encap=cast(LbEncap, encap),
                dscp=int(row.dscp) if encap == "l3dsr" else None,
                new_flows_table_length=length,
                servers=tuple(LbServer(a, w) for a, w in sorted(found.items())),
            )
            record = self.store.get(KIND, value.key)
            if record is not None:
                owner = str(record.get("load_balancer", ""))
                value = dataclasses.replace(value, load_balancer=owner)
                seen.add(value.key)
            out.append(Dumped(value, owned=record is not None))
        for key in self.store.keys(KIND):
            if key not in seen:
                self.store.delete(KIND, key)
        return out
