"""Assemble permit rules into one canonical, content-addressed ACL.

Canonical form makes equal policies produce byte-equal ACLs (hence one shared ACL per node):
collapse prefixes, drop rules that a broader all-traffic permit already covers, sort, then end
each IP family with an explicit deny-all (VPP would deny implicitly; explicit is auditable and
counts hits). A family whose permits already allow everything gets no deny.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from collections import defaultdict
from collections.abc import Iterable
from functools import lru_cache

from switchyard_contract.nodeconfig import Acl, AclRule

from .model import any_prefix, ip_version

IPNet = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=65536)
def _net(text: str) -> IPNet:
    return ipaddress.ip_network(text)


# ICMPv6 router solicitation/advertisement and neighbour solicitation/advertisement (types
# 133-136; VPP puts ICMP type/code in the port fields). An isolated IPv6 pod must still resolve
# its gateway: without this the deny-all would cut the pod off at layer 2.5, not per policy.
ICMP6_NEIGHBOR_DISCOVERY = AclRule(1, "::/0", "::/0", 58, 133, 136, 0, 255)

REFLECT_ALL_RULES = (AclRule(2, "0.0.0.0/0", "0.0.0.0/0"), AclRule(2, "::/0", "::/0"))
PERMIT_ALL_RULES = (AclRule(1, "0.0.0.0/0", "0.0.0.0/0"), AclRule(1, "::/0", "::/0"))
DENY_ALL = {4: AclRule(0, "0.0.0.0/0", "0.0.0.0/0"), 6: AclRule(0, "::/0", "::/0")}


def acl_name(rules: Iterable[AclRule]) -> str:
    """Content hash, stable across processes and Python versions."""
    text = json.dumps(
        [
            [
                r.action,
                r.src_prefix,
                r.dst_prefix,
                r.proto,
                r.src_port_first,
                r.src_port_last,
                r.dst_port_first,
                r.dst_port_last,
            ]
            for r in rules
        ],
        separators=(",", ":"),
    )
    return "np-" + hashlib.sha256(text.encode()).hexdigest()[:24]


def make_acl(rules: Iterable[AclRule]) -> Acl:
    frozen = tuple(rules)
    return Acl(acl_name(frozen), frozen)


REFLECT_ALL_ACL = make_acl(REFLECT_ALL_RULES)
PERMIT_ALL_ACL = make_acl(PERMIT_ALL_RULES)


def self_acls(ips: Iterable[str]) -> tuple[Acl, Acl]:
    """(input, output) ACLs that let a pod reach itself, as Kubernetes requires ("a pod cannot
    block access to itself"): on input, traffic to its own addresses (a service hairpin seen
    post-DNAT); on output, traffic from them. Pure permits placed before the shared policy ACL
    in the interface's lists, so the policy ACL itself stays shared between pods."""
    hosts = [f"{ip}/{32 if ip_version(ip) == 4 else 128}" for ip in sorted(ips)]
    inbound = [AclRule(2, any_prefix(ip_version(h)), h) for h in hosts]
    outbound = [AclRule(2, h, any_prefix(ip_version(h))) for h in hosts]
    return make_acl(inbound), make_acl(outbound)


def isolating_acl(permits: Iterable[AclRule]) -> Acl:
    """The ACL of a direction the pod is isolated in: the permits, then deny the rest."""
    rules = canonical_permits([*permits, ICMP6_NEIGHBOR_DISCOVERY])
    open_families = {
        ip_version(r.src_prefix)
        for r in rules
        if r.proto == 0 and _is_any(r.src_prefix) and _is_any(r.dst_prefix)
    }
    denies = [DENY_ALL[v] for v in (4, 6) if v not in open_families]
    return make_acl([*rules, *denies])


def canonical_permits(rules: Iterable[AclRule]) -> list[AclRule]:
    merged = _collapse(_collapse(set(rules), vary_src=True), vary_src=False)
    # All-traffic permit+reflect rules make any rule inside both of their prefixes redundant.
    broad: dict[IPNet, set[IPNet]] = defaultdict(set)  # dst -> src prefixes
    for r in merged:
        if r.proto == 0 and r.action == 2:
            broad[_net(r.dst_prefix)].add(_net(r.src_prefix))
    kept = [r for r in merged if not (r.proto == 0 and r.action == 2) and not _covered(r, broad)]
    kept += [r for r in merged if r.proto == 0 and r.action == 2]
    return sorted(kept, key=_sort_key)


def _covered(rule: AclRule, broad: dict[IPNet, set[IPNet]]) -> bool:
    src, dst = _net(rule.src_prefix), _net(rule.dst_prefix)
    for broad_dst, broad_srcs in broad.items():
        if broad_dst.version != dst.version or not dst.subnet_of(broad_dst):  # type: ignore[arg-type]
            continue
        # walk src's supernets: O(prefix length), not O(number of broad rules)
        for length in range(src.prefixlen, -1, -1):
            if src.supernet(new_prefix=length) in broad_srcs:
                return True
    return False


def _collapse(rules: set[AclRule], vary_src: bool) -> set[AclRule]:
    """Merge rules that differ only in one prefix into the fewest covering prefixes."""
    groups: dict[tuple[int, int, int, int, int, int, str], list[IPNet]] = defaultdict(list)
    for r in rules:
        fixed = r.dst_prefix if vary_src else r.src_prefix
        varied = r.src_prefix if vary_src else r.dst_prefix
        groups[
            (
                r.action,
                r.proto,
                r.src_port_first,
                r.src_port_last,
                r.dst_port_first,
                r.dst_port_last,
                fixed,
            )
        ].append(_net(varied))
    out: set[AclRule] = set()
    for (action, proto, sf, sl, df, dl, fixed), nets in groups.items():
        for net in ipaddress.collapse_addresses(nets):  # type: ignore[type-var]
            src, dst = (str(net), fixed) if vary_src else (fixed, str(net))
            out.add(AclRule(action, src, dst, proto, sf, sl, df, dl))  # type: ignore[arg-type]
    return out


def _is_any(prefix: str) -> bool:
    return _net(prefix).prefixlen == 0


def _sort_key(r: AclRule) -> tuple[int, ...]:
    src, dst = _net(r.src_prefix), _net(r.dst_prefix)
    return (
        src.version,
        r.proto,
        r.dst_port_first,
        r.dst_port_last,
        r.src_port_first,
        r.src_port_last,
        int(src.network_address),
        src.prefixlen,
        int(dst.network_address),
        dst.prefixlen,
        r.action,
    )
