"""ip: FIB tables and routes (multipath semantics of fib_api_route_add_del)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..convert import jsonable, to_dict
from ..errors import NO_PATHS_IN_ROUTE, NO_SUCH_FIB, ApiError
from .base import Fields, Registry

if TYPE_CHECKING:
    from ..state import VppState

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
TableKey = tuple[int, bool]  # (table_id, is_ip6)

PATH_TYPE_LOCAL = 1
PATH_TYPE_DROP = 2
FIB_SOURCE_API = 0  # what the emulator reports as 'src' in ip_route_v2_details

# Entries every VPP FIB has from the start (shown by ip_route_dump).
SPECIAL_ROUTES: dict[bool, list[tuple[str, int]]] = {
    False: [
        ("0.0.0.0/0", PATH_TYPE_DROP),
        ("0.0.0.0/32", PATH_TYPE_DROP),
        ("224.0.0.0/4", PATH_TYPE_DROP),
        ("240.0.0.0/4", PATH_TYPE_DROP),
        ("255.255.255.255/32", PATH_TYPE_DROP),
    ],
    True: [("::/0", PATH_TYPE_DROP), ("fe80::/10", PATH_TYPE_LOCAL)],
}

handles = Registry()


@dataclass
class Route:
    prefix: Network
    paths: list[Fields]
    stats_index: int
    special: bool = False


@dataclass
class IpTable:
    table_id: int
    is_ip6: bool
    name: str
    routes: dict[Network, Route] = field(default_factory=dict)
    specials: dict[Network, Route] = field(default_factory=dict)

    def visible(self) -> list[Route]:
        merged = {**self.specials, **self.routes}
        return [
            merged[p] for p in sorted(merged, key=lambda n: (int(n.network_address), n.prefixlen))
        ]


@dataclass
class IpState:
    tables: dict[TableKey, IpTable] = field(default_factory=dict)
    next_stats_index: int = 0

    def __post_init__(self) -> None:
        for is_ip6 in (False, True):
            if (0, is_ip6) not in self.tables:
                table = IpTable(0, is_ip6, f"ip{6 if is_ip6 else 4}-VRF:0")
                for text, path_type in SPECIAL_ROUTES[is_ip6]:
                    net = ipaddress.ip_network(text)
                    path = _blank_path(is_ip6, path_type)
                    table.specials[net] = Route(net, [path], self._stats(), special=True)
                self.tables[(0, is_ip6)] = table

    def _stats(self) -> int:
        self.next_stats_index += 1
        return self.next_stats_index

    def snapshot(self) -> list[Fields]:
        return [
            {
                "table_id": t.table_id,
                "is_ip6": t.is_ip6,
                "name": t.name,
                "routes": [
                    {"prefix": str(r.prefix), "paths": jsonable(r.paths)}
                    for r in t.visible()
                    if not r.special
                ],
            }
            for _, t in sorted(self.tables.items())
        ]


def _blank_path(is_ip6: bool, path_type: int) -> Fields:
    return {
        "sw_if_index": 0xFFFFFFFF,
        "table_id": 0,
        "rpf_id": 0,
        "weight": 1,
        "preference": 0,
        "type": path_type,
        "flags": 0,
        "proto": int(is_ip6),
        "nh": {
            "address": {"ip6" if is_ip6 else "ip4": None},
            "via_label": 0,
            "obj_id": 0,
            "classify_table_index": 0xFFFFFFFF,
        },
        "n_labels": 0,
        "label_stack": [{} for _ in range(16)],
    }


def _normalise_path(raw: Any) -> Fields:
    path: Fields = to_dict(raw)
    union = path["nh"]["address"]
    # Keep only the member the path's protocol uses (a union packs its first key).
    key = "ip6" if path["proto"] == 1 else "ip4"
    path["nh"]["address"] = {key: union[key]}
    return path


def _path_key(path: Fields) -> tuple[Any, ...]:
    nh = path["nh"]
    return (
        path["type"],
        path["proto"],
        path["sw_if_index"],
        path["table_id"],
        tuple(nh["address"].items()),
        nh["via_label"],
        nh["obj_id"],
    )


def _table(state: VppState, table_id: int, is_ip6: bool) -> IpTable:
    table = state.ip.tables.get((table_id, is_ip6))
    if table is None:
        raise ApiError(NO_SUCH_FIB, f"table {table_id}")
    return table


def _route_add_del(state: VppState, mp: Any) -> Fields:
    route = mp.route
    prefix: Network = route.prefix
    table = _table(state, route.table_id, prefix.version == 6)
    paths = [_normalise_path(p) for p in route.paths]
    existing = table.routes.get(prefix)
    if mp.is_multipath:
        if not paths:
            raise ApiError(NO_PATHS_IN_ROUTE)
        if mp.is_add:
            if existing is None:
                existing = table.routes[prefix] = Route(prefix, [], state.ip._stats())
            keys = {_path_key(p): i for i, p in enumerate(existing.paths)}
            for p in paths:
                if _path_key(p) in keys:
                    existing.paths[keys[_path_key(p)]] = p
                else:
                    existing.paths.append(p)
        elif existing is not None:
            gone = {_path_key(p) for p in paths}
            existing.paths = [p for p in existing.paths if _path_key(p) not in gone]
            if not existing.paths:
                del table.routes[prefix]
    elif mp.is_add:
        if not paths:
            raise ApiError(NO_PATHS_IN_ROUTE)
        if existing is None:
            existing = table.routes[prefix] = Route(prefix, [], state.ip._stats())
        existing.paths = paths
    else:
        table.routes.pop(prefix, None)
    current = table.routes.get(prefix)
    return {"stats_index": current.stats_index if current else 0xFFFFFFFF}


@handles("ip_route_add_del", "ip_route_add_del_v2")
def ip_route_add_del(state: VppState, mp: Any) -> Fields:
    return _route_add_del(state, mp)


def _route_fields(table: IpTable, r: Route) -> Fields:
    return {
        "table_id": table.table_id,
        "stats_index": r.stats_index,
        "prefix": r.prefix,
        "n_paths": len(r.paths),
        "src": FIB_SOURCE_API,
        "paths": r.paths,
    }


@handles("ip_route_dump", "ip_route_v2_dump")
def ip_route_dump(state: VppState, mp: Any) -> list[Fields]:
    table = state.ip.tables.get((mp.table.table_id, bool(mp.table.is_ip6)))
    if table is None:
        return []
    return [{"route": _route_fields(table, r)} for r in table.visible()]


@handles("ip_table_add_del", "ip_table_add_del_v2")
def ip_table_add_del(state: VppState, mp: Any) -> Fields:
    key = (mp.table.table_id, bool(mp.table.is_ip6))
    tables = state.ip.tables
    if mp.is_add:
        if key not in tables:
            name = mp.table.name or f"ip{6 if key[1] else 4}-VRF:{key[0]}"
            tables[key] = IpTable(key[0], key[1], name)
    elif key[0] != 0:
        tables.pop(key, None)
    return {}


@handles("ip_table_dump")
def ip_table_dump(state: VppState, mp: Any) -> list[Fields]:
    return [
        {"table": {"table_id": t.table_id, "is_ip6": t.is_ip6, "name": t.name}}
        for _, t in sorted(state.ip.tables.items())
    ]
