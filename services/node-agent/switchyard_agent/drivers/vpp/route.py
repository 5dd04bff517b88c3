"""Route -> a FIB entry in table 0 (`ip_route_add_del`) with all its next hops (ECMP when
more than one). Create and update send the whole path set with is_multipath=0, which replaces
the entry's paths atomically (no moment with a partial set); delete removes the entry.

VPP has routes of its own (defaults, connected, those of other tools): a resync reports and
touches only the prefixes the agent recorded as its own. Built-in entries without a next hop
(drop, local) are not reported at all, so a desired default route does not look like a
conflict with VPP's 0.0.0.0/0 drop entry.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

from switchyard_contract.nodeconfig import NextHop, Route

from ...descriptors import Dumped, PermanentError
from .common import U32_MAX, VppDescriptor, ip_text, net_text

KIND = Route.KIND
PATH_NORMAL = 0


def _hops(value: Route) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((ip_text(h.address), h.interface) for h in value.next_hops))


class RouteDescriptor(VppDescriptor[Route]):
    kind = KIND

    def equivalent(self, desired: Route, actual: Route) -> bool:
        return (net_text(desired.prefix), _hops(desired)) == (
            net_text(actual.prefix),
            _hops(actual),
        )

    def can_update(self, old: Route, new: Route) -> bool:
        return True

    def _path(self, hop: NextHop, version: int) -> dict[str, Any]:
        address = ipaddress.ip_address(hop.address)
        if address.version != version:
            raise PermanentError(f"next hop {hop.address} is not IPv{version}")
        index = self.ctx.interfaces.index_of(hop.interface) if hop.interface else U32_MAX
        v6 = address.version == 6
        return {
            "sw_if_index": index,
            "table_id": 0,
            "rpf_id": 0,
            "weight": 1,
            "preference": 0,
            "type": PATH_NORMAL,
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

    def create(self, value: Route) -> object:
        if not value.next_hops:
            raise PermanentError("a route needs at least one next hop")
        prefix = ipaddress.ip_network(value.prefix, strict=False)
        paths = [self._path(h, prefix.version) for h in value.next_hops]
        self.store.put(KIND, value.key, True)
        self.conn.call(
            "ip_route_add_del",
            is_add=True,
            is_multipath=False,
            route={"table_id": 0, "prefix": str(prefix), "n_paths": len(paths), "paths": paths},
        )
        return None

    def update(self, old: Route, new: Route, metadata: object) -> object:
        return self.create(new)

    def delete(self, value: Route, metadata: object) -> None:
        prefix = net_text(value.prefix)
        self.conn.call(
            "ip_route_add_del",
            is_add=False,
            is_multipath=False,
            route={"table_id": 0, "prefix": prefix, "n_paths": 0, "paths": []},
        )
        self.store.delete(KIND, value.key)

    def dump(self) -> Iterable[Dumped[Route]]:
        out: list[Dumped[Route]] = []
        seen: set[str] = set()
        for is_ip6 in (False, True):
            rows = self.conn.dump("ip_route_dump", table={"table_id": 0, "is_ip6": is_ip6})
            for row in rows:
                r = row.route
                hops = []
                for p in r.paths:
                    if int(p.type) != PATH_NORMAL:
                        continue
                    address = p.nh.address.ip6 if int(p.proto) == 1 else p.nh.address.ip4
                    index = int(p.sw_if_index)
                    name = "" if index == U32_MAX else self.ctx.interfaces.name_of(index)
                    hops.append(NextHop(ip_text(address), name or ""))
                prefix = net_text(r.prefix)
                key = f"{KIND}/{prefix}"
                owned = self.store.get(KIND, key) is not None
                if not hops and not owned:
                    continue  # VPP's own drop/local entries
                if owned:
                    seen.add(key)
                out.append(Dumped(Route(prefix, tuple(hops)), owned=owned))
        for key in self.store.keys(KIND):
            if key not in seen:
                self.store.delete(KIND, key)
        return out
