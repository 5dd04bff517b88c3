"""Translate the rules of the policies selecting a pod into permit+reflect ACL rules.

Direction conventions (see placement.py for why):
- ingress rules go into the OUTPUT ACL of the pod's interface: peer = source, dst = any
  (everything leaving that interface goes to the pod, so no per-pod address is needed and
  pods with the same effective policy get byte-identical rules);
- egress rules go into the INPUT ACL: src = any, peer = destination (post-DNAT: cnat has
  already translated a service VIP to the chosen backend pod IP:targetPort).

Ports: absent/empty `ports` = every protocol and port (proto 0). A named port resolves, on the
given protocol, on the pod that receives the traffic: for ingress the selected pod itself, for
egress each destination pod. Destinations that are not pods (addresses only reachable through
an ipBlock or an empty `to`) have no named ports, so a named port never matches them; pods whose
address lies inside an ipBlock (or any pod, for an empty `to`) resolve it like selected peers.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

from switchyard_contract.nodeconfig import AclRule

from ...resources.network_policy import IPBlock, NetworkPolicyPort
from .model import PROTOCOL_NUMBERS, Direction, PodInfo, any_prefix, host_prefix, ip_version
from .provenance import OWN_NODE, RuleOrigin, SourcedRules
from .selection import PolicyState, Selection

# (protocol number, first destination port, last destination port); proto 0 = anything.
PortRange = tuple[int, int, int]
ALL_TRAFFIC: PortRange = (0, 0, 65535)
ANY_PREFIXES = ("0.0.0.0/0", "::/0")


def numeric_range(port: NetworkPolicyPort) -> PortRange | None:
    """None for a named port (resolved per pod)."""
    proto = PROTOCOL_NUMBERS[port.protocol]
    if port.port is None:
        return (proto, 0, 65535)
    if isinstance(port.port, str):
        return None
    return (proto, port.port, port.endPort if port.endPort is not None else port.port)


def resolve_on(pod: PodInfo, port: NetworkPolicyPort) -> PortRange | None:
    """The range `port` means for traffic to `pod`; None if it names a port the pod lacks."""
    if isinstance(port.port, str):
        number = pod.named_port(port.port, port.protocol)
        return None if number is None else (PROTOCOL_NUMBERS[port.protocol], number, number)
    return numeric_range(port)


def block_prefixes(block: IPBlock) -> list[str]:
    """cidr minus its exceptions as disjoint prefixes: pure permits stay order-independent,
    so rules of different policies can be unioned without a deny shadowing another permit."""
    remaining = [ipaddress.ip_network(block.cidr)]
    for text in block.except_:
        hole = ipaddress.ip_network(text)
        next_round = []
        for net in remaining:
            if net.version != hole.version or not net.overlaps(hole):
                next_round.append(net)
            elif hole.subnet_of(net):  # type: ignore[arg-type]
                next_round.extend(net.address_exclude(hole))  # type: ignore[arg-type]
            # else: net lies inside the hole and disappears
        remaining = next_round
    return [str(n) for n in sorted(remaining, key=lambda n: (n.version, n))]


def in_block(ip: str, block: IPBlock) -> bool:
    address = ipaddress.ip_address(ip)
    if address not in ipaddress.ip_network(block.cidr):
        return False
    return not any(address in ipaddress.ip_network(e) for e in block.except_)


def _rule(direction: Direction, peer_prefix: str, ports: PortRange) -> AclRule:
    proto, first, last = ports
    other = any_prefix(ip_version(peer_prefix))
    if direction == "Ingress":
        return AclRule(2, peer_prefix, other, proto, 0, 65535, first, last)
    return AclRule(2, other, peer_prefix, proto, 0, 65535, first, last)


def _product(
    direction: Direction, prefixes: Iterable[str], ranges: Sequence[PortRange]
) -> list[AclRule]:
    return [_rule(direction, prefix, r) for prefix in prefixes for r in ranges]


def _origin(policy: PolicyState, direction: Direction, index: int) -> RuleOrigin:
    return RuleOrigin(f"{policy.key[0]}/{policy.key[1]}", direction, index)


def _pod_prefixes(pods: Iterable[PodInfo]) -> list[str]:
    return [host_prefix(ip) for pod in pods for ip in pod.ips]


def ingress_rules(
    pod: PodInfo,
    policies: Sequence[PolicyState],
    selection: Selection,
    node_addresses: Sequence[str],
) -> list[SourcedRules]:
    """Permits of `pod`'s ingress (its interface's output ACL), before canonicalisation, each
    with the rule it came from."""
    groups: list[SourcedRules] = []
    for policy in policies:
        for index, rule in enumerate(policy.spec.ingress):
            rules: list[AclRule] = []
            groups.append((_origin(policy, "Ingress", index), rules))
            if rule.ports:
                ranges = [r for r in (resolve_on(pod, p) for p in rule.ports) if r is not None]
            else:
                ranges = [ALL_TRAFFIC]
            if not ranges:
                continue
            if not rule.from_:
                rules += _product("Ingress", ANY_PREFIXES, ranges)
                continue
            for peer_index, peer in enumerate(rule.from_):
                if peer.ipBlock is not None:
                    prefixes = block_prefixes(peer.ipBlock)
                else:
                    peer_id = (policy.key, "Ingress", index, peer_index)
                    prefixes = _pod_prefixes(selection.member_pods(peer_id))
                rules += _product("Ingress", prefixes, ranges)
    # Implementation-defined in Kubernetes: the pod's own node (kubelet probes) may always
    # connect to it. Other nodes' addresses are subject to the policy like any address.
    own_node = _product("Ingress", (host_prefix(a) for a in node_addresses), [ALL_TRAFFIC])
    groups.append((RuleOrigin("", "Ingress", reason=OWN_NODE), own_node))
    return groups


def egress_rules(policies: Sequence[PolicyState], selection: Selection) -> list[SourcedRules]:
    """Permits of the egress of any pod selected by exactly `policies` (its input ACL), each
    with its origin. Depends only on the policies and their peers, never on the pod itself."""
    groups: list[SourcedRules] = []
    for policy in policies:
        for index, rule in enumerate(policy.spec.egress):
            rules: list[AclRule] = []
            groups.append((_origin(policy, "Egress", index), rules))
            ports = list(rule.ports or ())
            numeric = [r for r in (numeric_range(p) for p in ports) if r is not None]
            named = [p for p in ports if isinstance(p.port, str)]
            if not ports:
                numeric = [ALL_TRAFFIC]
            if not rule.to:
                rules += _product("Egress", ANY_PREFIXES, numeric)
                for port in named:
                    rules += _named(port, selection.pods_with_port_name(str(port.port)), None)
                continue
            for peer_index, peer in enumerate(rule.to):
                if peer.ipBlock is not None:
                    rules += _product("Egress", block_prefixes(peer.ipBlock), numeric)
                    for port in named:
                        candidates = selection.pods_with_port_name(str(port.port))
                        rules += _named(port, candidates, peer.ipBlock)
                    continue
                members = selection.member_pods((policy.key, "Egress", index, peer_index))
                rules += _product("Egress", _pod_prefixes(members), numeric)
                for port in named:
                    rules += _named(port, members, None)
    return groups


def _named(
    port: NetworkPolicyPort, pods: Sequence[PodInfo], block: IPBlock | None
) -> list[AclRule]:
    """Egress to a named port: one rule per destination pod that has it (inside `block`)."""
    rules: list[AclRule] = []
    for pod in pods:
        resolved = resolve_on(pod, port)
        if resolved is None:
            continue
        ips = [ip for ip in pod.ips if block is None or in_block(ip, block)]
        rules += _product("Egress", [host_prefix(ip) for ip in ips], [resolved])
    return rules
