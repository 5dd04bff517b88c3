"""lb plugin: lb_conf, VIPs and application servers, with the quirks of the
VPP 26.10 API handlers (src/plugins/lb/api.c and lb.c):

* lb_vip_dump ignores its filter and returns every VIP; target_port is sent
  byte-swapped (stored in network order, then htons'd again); the flow table
  length is a u16 (65536 reads 0).
* lb_as_dump/lb_as_v2_dump with a filter compare the raw 16-byte address, so an
  IPv4 filter never matches anything; an all-zero filter dumps everything.
* A deleted AS stays listed (flags 0, not "used") until the VIP's garbage
  collection, which runs on a later AS change at most once a minute and only
  for ASs unused for LB_CONCURRENCY_TIMEOUT seconds.
* An IPv6 VIP with an IPv4-only encap (l3dsr, nat4) silently becomes GRE6.
"""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..convert import U32_MAX
from ..errors import (
    INVALID_ADDRESS_FAMILY,
    INVALID_ARGUMENT,
    INVALID_MEMORY_SIZE,
    NO_SUCH_ENTRY,
    VALUE_EXIST,
    ApiError,
)
from .base import Fields, Registry

if TYPE_CHECKING:
    from ..state import VppState

ENCAP_GRE4, ENCAP_GRE6, ENCAP_L3DSR, ENCAP_NAT4, ENCAP_NAT6 = range(5)
AS_FLAGS_USED = 1
LB_GARBAGE_RUN = 60.0
LB_CONCURRENCY_TIMEOUT = 10.0
ALL_PROTOCOLS = 255

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

handles = Registry()


@dataclass
class AppServer:
    address: Address
    weight: int = 100
    flags: int = AS_FLAGS_USED
    last_used: int = 0


@dataclass
class Vip:
    prefix: Network
    protocol: int
    port: int
    encap: int
    dscp: int
    srv_type: int
    target_port: int
    new_flows_table_length: int
    src_ip_sticky: bool
    ass: dict[Address, AppServer] = field(default_factory=dict)
    last_gc: float = field(default_factory=time.monotonic)

    @property
    def key(self) -> tuple[Network, int, int]:
        return (self.prefix, self.protocol, self.port)

    @property
    def as_is_ip4(self) -> bool:
        return self.encap in (ENCAP_GRE4, ENCAP_L3DSR, ENCAP_NAT4)

    def api_vip(self) -> Fields:
        addr = self.prefix.network_address
        iface = ipaddress.ip_interface((addr, self.prefix.prefixlen))
        return {"pfx": iface, "protocol": self.protocol, "port": self.port}

    def garbage_collect(self) -> None:
        now = time.monotonic()
        if now - self.last_gc < LB_GARBAGE_RUN:
            return
        self.last_gc = now
        wall = int(time.time())
        for addr, a in list(self.ass.items()):
            if not a.flags & AS_FLAGS_USED and wall - a.last_used >= LB_CONCURRENCY_TIMEOUT:
                del self.ass[addr]

    def buckets(self) -> dict[Address, int]:
        """Share of the new-flow table per used AS, proportional to weight."""
        used = [a for a in self.ass.values() if a.flags & AS_FLAGS_USED and a.weight]
        total = sum(a.weight for a in used)
        size = self.new_flows_table_length
        out = {a.address: 0 for a in self.ass.values()}
        if not total:
            return out
        shares = [(a, size * a.weight / total) for a in used]
        for a, share in shares:
            out[a.address] = int(share)
        rest = size - sum(out.values())
        for a, _share in sorted(shares, key=lambda s: s[1] - int(s[1]), reverse=True)[:rest]:
            out[a.address] += 1
        return out

    def snapshot(self) -> Fields:
        return {
            "prefix": str(self.prefix),
            "protocol": self.protocol,
            "port": self.port,
            "encap": self.encap,
            "dscp": self.dscp,
            "srv_type": self.srv_type,
            "target_port": self.target_port,
            "new_flows_table_length": self.new_flows_table_length,
            "src_ip_sticky": self.src_ip_sticky,
            "ass": [
                {"address": str(a.address), "weight": a.weight, "flags": a.flags}
                for a in self.ass.values()
            ],
        }


@dataclass
class LbState:
    conf: Fields = field(
        default_factory=lambda: {
            "ip4_src_address": ipaddress.IPv4Address(0),
            "ip6_src_address": ipaddress.IPv6Address(0),
            "sticky_buckets_per_core": 1024,
            "flow_timeout": 40,
        }
    )
    vips: dict[tuple[Network, int, int], Vip] = field(default_factory=dict)

    def snapshot(self) -> Fields:
        return {
            "conf": {k: str(v) if not isinstance(v, int) else v for k, v in self.conf.items()},
            "vips": [v.snapshot() for v in self.vips.values()],
        }


def _vip_key(mp: Any) -> tuple[Network, int, int]:
    prefix: Network = mp.pfx.network  # normalised, like ip46_prefix_normalize
    protocol = ALL_PROTOCOLS if mp.port == 0 else int(mp.protocol)
    return (prefix, protocol, mp.port)


def _find_vip(state: VppState, mp: Any) -> Vip:
    vip = state.lb.vips.get(_vip_key(mp))
    if vip is None:
        raise ApiError(NO_SUCH_ENTRY, "no such VIP")
    return vip


@handles("lb_conf")
def lb_conf(state: VppState, mp: Any) -> Fields:
    conf = state.lb.conf
    conf["ip4_src_address"] = mp.ip4_src_address
    conf["ip6_src_address"] = mp.ip6_src_address
    if mp.sticky_buckets_per_core != U32_MAX:
        conf["sticky_buckets_per_core"] = mp.sticky_buckets_per_core
    if mp.flow_timeout != U32_MAX:
        conf["flow_timeout"] = mp.flow_timeout
    return {}


@handles("lb_conf_get")
def lb_conf_get(state: VppState, mp: Any) -> Fields:
    return dict(state.lb.conf)


@handles("lb_add_del_vip", "lb_add_del_vip_v2")
def lb_add_del_vip(state: VppState, mp: Any) -> Fields:
    key = _vip_key(mp)
    prefix, protocol, port = key
    vips = state.lb.vips
    if mp.is_del:
        if key not in vips:
            raise ApiError(NO_SUCH_ENTRY, "no such VIP")
        del vips[key]
        return {}
    encap = int(mp.encap)
    is_ip4 = prefix.version == 4
    if is_ip4 and encap not in (ENCAP_GRE4, ENCAP_GRE6, ENCAP_L3DSR, ENCAP_NAT4):
        raise ApiError(INVALID_ADDRESS_FAMILY, "encap not valid for an IPv4 VIP")
    if not is_ip4 and encap not in (ENCAP_GRE4, ENCAP_GRE6, ENCAP_NAT6):
        encap = ENCAP_GRE6  # type 0 == LB_VIP_TYPE_IP6_GRE6
    if key in vips:
        raise ApiError(VALUE_EXIST, "VIP exists")
    same_prefix = [v for v in vips.values() if v.prefix == prefix]
    if port != 0 and any(v.port == 0 for v in same_prefix):
        raise ApiError(VALUE_EXIST, "an all-port VIP exists on this prefix")
    if port == 0 and any(v.port != 0 for v in same_prefix):
        raise ApiError(VALUE_EXIST, "a per-port VIP exists on this prefix")
    if port != 0 and any(v.encap != encap for v in same_prefix):
        raise ApiError(INVALID_ARGUMENT, "VIPs of one prefix must share the encap")
    length = mp.new_flows_table_length
    if length == 0 or length & (length - 1):
        raise ApiError(INVALID_MEMORY_SIZE, "new_flows_table_length not a power of 2")
    is_nat = encap in (ENCAP_NAT4, ENCAP_NAT6)
    vips[key] = Vip(
        prefix=prefix,
        protocol=protocol,
        port=port,
        encap=encap,
        dscp=mp.dscp & 0x3F if encap == ENCAP_L3DSR else 0,
        srv_type=int(mp.type) if is_nat else 0,
        target_port=mp.target_port if is_nat else 0,
        new_flows_table_length=length,
        src_ip_sticky=bool(getattr(mp, "src_ip_sticky", False)),
    )
    return {}


def _add_as(vip: Vip, address: Address, weight: int) -> None:
    if (address.version == 4) != vip.as_is_ip4:
        raise ApiError(INVALID_ADDRESS_FAMILY, "AS address family does not match encap")
    existing = vip.ass.get(address)
    if existing is not None and existing.flags & AS_FLAGS_USED:
        raise ApiError(VALUE_EXIST, "AS exists")
    vip.garbage_collect()
    if existing is not None and address in vip.ass:
        existing.flags = AS_FLAGS_USED
        existing.weight = weight
    else:
        vip.ass[address] = AppServer(address, weight=weight)


def _del_as(vip: Vip, address: Address) -> None:
    existing = vip.ass.get(address)
    if existing is None:
        raise ApiError(NO_SUCH_ENTRY, "no such AS")
    vip.garbage_collect()
    existing.flags &= ~AS_FLAGS_USED
    existing.last_used = int(time.time())


@handles("lb_add_del_as")
def lb_add_del_as(state: VppState, mp: Any) -> Fields:
    vip = _find_vip(state, mp)
    if mp.is_del:
        _del_as(vip, mp.as_address)
    else:
        _add_as(vip, mp.as_address, 100)
    return {}


@handles("lb_add_del_as_v2")
def lb_add_del_as_v2(state: VppState, mp: Any) -> Fields:
    vip = _find_vip(state, mp)
    if mp.is_del:
        _del_as(vip, mp.as_address)
    else:
        _add_as(vip, mp.as_address, mp.weight)
    return {}


@handles("lb_as_set_weight")
def lb_as_set_weight(state: VppState, mp: Any) -> Fields:
    vip = _find_vip(state, mp)
    existing = vip.ass.get(mp.as_address)
    if existing is None or not existing.flags & AS_FLAGS_USED:
        raise ApiError(NO_SUCH_ENTRY, "no such AS")
    existing.weight = mp.weight
    return {}


@handles("lb_flush_vip")
def lb_flush_vip(state: VppState, mp: Any) -> Fields:
    _find_vip(state, mp)
    return {}  # only the sticky flow table is flushed


@handles("lb_vip_dump")
def lb_vip_dump(state: VppState, mp: Any) -> list[Fields]:
    out = []
    for vip in state.lb.vips.values():  # the request's filter is ignored
        tp = vip.target_port
        out.append(
            {
                "vip": vip.api_vip(),
                "encap": vip.encap,
                "dscp": vip.dscp,
                "srv_type": vip.srv_type,
                "target_port": ((tp & 0xFF) << 8) | (tp >> 8),
                "flow_table_length": vip.new_flows_table_length & 0xFFFF,
            }
        )
    return out


def _as_dump_vips(state: VppState, mp: Any) -> list[Vip]:
    address = mp.pfx.ip
    if int(address) == 0:
        return list(state.lb.vips.values())
    if address.version == 4:
        return []  # raw union compare against the ip46 form never matches
    return [
        v
        for v in state.lb.vips.values()
        if v.prefix.network_address == address and v.protocol == mp.protocol and v.port == mp.port
    ]


@handles("lb_as_dump")
def lb_as_dump(state: VppState, mp: Any) -> list[Fields]:
    return [
        {"vip": vip.api_vip(), "app_srv": a.address, "flags": a.flags, "in_use_since": a.last_used}
        for vip in _as_dump_vips(state, mp)
        for a in vip.ass.values()
    ]


@handles("lb_as_v2_dump")
def lb_as_v2_dump(state: VppState, mp: Any) -> list[Fields]:
    out = []
    for vip in _as_dump_vips(state, mp):
        buckets = vip.buckets()
        for a in vip.ass.values():
            out.append(
                {
                    "vip": vip.api_vip(),
                    "app_srv": a.address,
                    "flags": a.flags,
                    "in_use_since": a.last_used,
                    "weight": a.weight,
                    "num_buckets": buckets.get(a.address, 0),
                }
            )
    return out
