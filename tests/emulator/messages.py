"""Builders of the emulator tests' request arguments, in vpp_papi's shapes."""

from __future__ import annotations

import ipaddress
from typing import Any

U32_MAX = 0xFFFFFFFF


def endpoint(addr: str, port: int = 0) -> dict[str, Any]:
    return {"addr": addr, "sw_if_index": U32_MAX, "port": port}


def translation(vip: str, port: int, backends: list[str], proto: int = 6, **kw: Any) -> Any:
    paths = [{"dst_ep": endpoint(b, 8080), "src_ep": endpoint("0.0.0.0")} for b in backends]
    return {
        "vip": endpoint(vip, port),
        "ip_proto": proto,
        "n_paths": len(paths),
        "paths": paths,
        **kw,
    }


def acl_rule(action: int, dst: str, port: int) -> dict[str, Any]:
    return {
        "is_permit": action,
        "src_prefix": "0.0.0.0/0",
        "dst_prefix": dst,
        "proto": 6,
        "srcport_or_icmptype_first": 0,
        "srcport_or_icmptype_last": 65535,
        "dstport_or_icmpcode_first": port,
        "dstport_or_icmpcode_last": port,
    }


def fib_path(nh: str, sw_if_index: int = U32_MAX) -> dict[str, Any]:
    ip6 = ipaddress.ip_address(nh).version == 6
    return {
        "sw_if_index": sw_if_index,
        "weight": 1,
        "proto": int(ip6),
        "nh": {"address": {"ip6" if ip6 else "ip4": nh}},
        "label_stack": [{}] * 16,
    }


def routes(vpp: Any, table_id: int = 0, is_ip6: bool = False) -> dict[str, list[str]]:
    out = {}
    for d in vpp.ip_route_dump(table={"table_id": table_id, "is_ip6": is_ip6}):
        r = d.route
        out[str(r.prefix)] = [
            str(p.nh.address.ip6 if int(p.proto) else p.nh.address.ip4)
            for p in r.paths
            if int(p.type) == 0
        ]
    return out
