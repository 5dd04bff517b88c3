"""Between NodeConfig values and GoBGP's API messages: families, paths, attributes."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from google.protobuf.any_pb2 import Any as AnyMessage
from google.protobuf.message import Message

from gobgpapi import attribute_pb2 as attrs
from gobgpapi import gobgp_pb2 as api
from switchyard_contract.nodeconfig import BgpAnnouncement

from ...descriptors import PermanentError

FAMILY_V4: Final = api.Family(afi=api.Family.AFI_IP, safi=api.Family.SAFI_UNICAST)
FAMILY_V6: Final = api.Family(afi=api.Family.AFI_IP6, safi=api.Family.SAFI_UNICAST)
FAMILIES: Final = {"ipv4-unicast": FAMILY_V4, "ipv6-unicast": FAMILY_V6}
ORIGIN_IGP: Final = 0
AS_SET: Final = 1
AS_SEQUENCE: Final = 2
DEFAULT_LOCAL_PREF: Final = 100


def family_name(family: api.Family) -> str | None:
    for name, known in FAMILIES.items():
        if (known.afi, known.safi) == (family.afi, family.safi):
            return name
    return None


def pack(message: Message) -> AnyMessage:
    packed = AnyMessage()
    packed.Pack(message)
    return packed


def canonical_prefix(prefix: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(prefix, strict=False)
    except ValueError as exc:
        raise PermanentError(f"bad prefix {prefix!r}") from exc


def parse_community(text: str) -> int:
    high, sep, low = text.partition(":")
    if not sep or not high.isdigit() or not low.isdigit():
        raise PermanentError(f"bad community {text!r} (want ASN:VALUE)")
    if int(high) > 0xFFFF or int(low) > 0xFFFF:
        raise PermanentError(f"bad community {text!r} (each half is 16 bits)")
    return (int(high) << 16) | int(low)


def format_community(value: int) -> str:
    return f"{value >> 16}:{value & 0xFFFF}"


def announcement_path(value: BgpAnnouncement) -> api.Path:
    """The AddPath/DeletePath path of an announcement: NLRI, origin IGP, next hop (IPv6 in
    MpReachNLRI), communities."""
    network = canonical_prefix(value.prefix)
    try:
        next_hop = ipaddress.ip_address(value.next_hop)
    except ValueError as exc:
        raise PermanentError(f"bad next hop {value.next_hop!r}") from exc
    if next_hop.version != network.version:
        raise PermanentError(f"next hop {value.next_hop} is not IPv{network.version}")
    family = FAMILY_V4 if network.version == 4 else FAMILY_V6
    nlri = pack(
        attrs.IPAddressPrefix(prefix=str(network.network_address), prefix_len=network.prefixlen)
    )
    pattrs = [pack(attrs.OriginAttribute(origin=ORIGIN_IGP))]
    if network.version == 4:
        pattrs.append(pack(attrs.NextHopAttribute(next_hop=str(next_hop))))
    else:
        pattrs.append(
            pack(attrs.MpReachNLRIAttribute(family=family, next_hops=[str(next_hop)], nlris=[nlri]))
        )
    if value.communities:
        communities = sorted({parse_community(c) for c in value.communities})
        pattrs.append(pack(attrs.CommunitiesAttribute(communities=communities)))
    return api.Path(family=family, nlri=nlri, pattrs=pattrs)


@dataclass(frozen=True, slots=True)
class PathInfo:
    """What the driver reads from one path of ListPath or WatchEvent."""

    prefix: str
    next_hop: str | None
    communities: tuple[str, ...]
    local: bool  # originated by this gobgpd (AddPath), not learned from a peer
    best: bool
    withdrawn: bool
    usable: bool  # not filtered, next hop not invalid
    # BGP best-path rank (higher wins), what GoBGP's multipath compares: eBGP over iBGP,
    # local preference, shorter AS path, lower origin, lower MED.
    rank: tuple[int, int, int, int, int]


def _prefix_of(path: api.Path) -> str | None:
    nlri = attrs.IPAddressPrefix()
    if not path.nlri.Unpack(nlri):
        return None
    try:
        return str(ipaddress.ip_network(f"{nlri.prefix}/{nlri.prefix_len}", strict=False))
    except ValueError:
        return None


def path_info(path: api.Path, local_asn: int = 0) -> PathInfo | None:
    """None for anything that is not an IPv4/IPv6 unicast prefix."""
    prefix = _prefix_of(path)
    if prefix is None:
        return None
    next_hop: str | None = None
    communities: tuple[str, ...] = ()
    local_pref, as_len, origin, med = DEFAULT_LOCAL_PREF, 0, 0, 0
    for packed in path.pattrs:
        if packed.Is(attrs.NextHopAttribute.DESCRIPTOR):
            nh = attrs.NextHopAttribute()
            packed.Unpack(nh)
            next_hop = nh.next_hop
        elif packed.Is(attrs.MpReachNLRIAttribute.DESCRIPTOR):
            mp = attrs.MpReachNLRIAttribute()
            packed.Unpack(mp)
            if mp.next_hops:
                next_hop = mp.next_hops[0]
        elif packed.Is(attrs.CommunitiesAttribute.DESCRIPTOR):
            cs = attrs.CommunitiesAttribute()
            packed.Unpack(cs)
            communities = tuple(sorted(format_community(c) for c in cs.communities))
        elif packed.Is(attrs.LocalPrefAttribute.DESCRIPTOR):
            lp = attrs.LocalPrefAttribute()
            packed.Unpack(lp)
            local_pref = lp.local_pref
        elif packed.Is(attrs.AsPathAttribute.DESCRIPTOR):
            ap = attrs.AsPathAttribute()
            packed.Unpack(ap)
            as_len = sum(
                len(s.numbers) if s.type == AS_SEQUENCE else 1 if s.type == AS_SET else 0
                for s in ap.segments
            )
        elif packed.Is(attrs.OriginAttribute.DESCRIPTOR):
            og = attrs.OriginAttribute()
            packed.Unpack(og)
            origin = og.origin
        elif packed.Is(attrs.MultiExitDiscAttribute.DESCRIPTOR):
            md = attrs.MultiExitDiscAttribute()
            packed.Unpack(md)
            med = md.med
    local = path.neighbor_ip in ("", "<nil>")
    ebgp = 1 if (local or path.source_asn != local_asn) else 0
    return PathInfo(
        prefix=prefix,
        next_hop=str(ipaddress.ip_address(next_hop)) if next_hop else None,
        communities=communities,
        local=local,
        best=path.best,
        withdrawn=path.is_withdraw,
        usable=not path.filtered and not path.is_nexthop_invalid,
        rank=(ebgp, local_pref, -as_len, -origin, -med),
    )


def multipath_next_hops(paths: Iterable[PathInfo]) -> tuple[str, ...] | None:
    """Next hops of the equal-cost learned paths of one destination, or None when it has no
    usable learned best path (nothing learned, or this node originates the prefix itself:
    GoBGP always prefers a local path)."""
    usable = [p for p in paths if p.usable and not p.withdrawn]
    if not usable or any(p.local for p in usable):
        return None
    best = next((p for p in usable if p.best), None) or max(usable, key=lambda p: p.rank)
    hops = {p.next_hop for p in usable if p.rank == best.rank and p.next_hop}
    return tuple(sorted(hops, key=lambda h: ipaddress.ip_address(h))) if hops else None


def announcements_of(destinations: Sequence[api.Destination]) -> list[BgpAnnouncement]:
    """The locally originated paths of a ListPath reply, as announcements."""
    out: list[BgpAnnouncement] = []
    for destination in destinations:
        for path in destination.paths:
            info = path_info(path)
            if info is None or not info.local or info.withdrawn or info.next_hop is None:
                continue
            out.append(BgpAnnouncement(info.prefix, info.next_hop, info.communities))
    return out
