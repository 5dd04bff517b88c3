"""One checkpoint (interface x direction) of VPP's ACL plugin over compiled objects.

Semantics of acl-plugin-{in,out}-ip{4,6}-fa: no binding or an empty list passes; a packet of a
reflect session on that interface (created by an earlier permit+reflect, either orientation)
passes; otherwise the ACLs of the list are scanned in order, rules in order, first match
decides (0 deny, 1 permit, 2 permit and create a session). No match: VPP's implicit deny.
VPP reads L4 ports only for TCP and UDP: other protocols match with ports 0.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Protocol

from switchyard_contract.nodeconfig import Acl, AclBinding, AclRule, NodeObject

from ..compiler.policy.acl import ICMP6_NEIGHBOR_DISCOVERY, PERMIT_ALL_ACL
from ..compiler.policy.provenance import DirectionProvenance, PodProvenance
from .model import AclStep, RuleView

Packet = tuple[str, str, int, int, int]  # src, dst, proto, sport, dport


class ObjectLookup(Protocol):
    def get(self, key: str) -> NodeObject | None: ...


ACTIONS = {0: "deny", 1: "permit", 2: "permit+reflect"}


@dataclass(frozen=True, slots=True)
class Checkpoint:
    node: str
    interface: str
    direction: str  # "in" | "out"
    pod: str | None = None  # "ns/name" of the pod behind a pod interface
    provenance: PodProvenance | None = None


@dataclass
class Sessions:
    """Reflect sessions created so far, per (node, interface)."""

    table: dict[tuple[str, str], set[Packet]] = field(default_factory=dict)

    def has(self, where: tuple[str, str], packet: Packet) -> bool:
        src, dst, proto, sport, dport = packet
        found = self.table.get(where, set())
        return packet in found or (dst, src, proto, dport, sport) in found

    def add(self, where: tuple[str, str], packet: Packet) -> None:
        self.table.setdefault(where, set()).add(packet)


@lru_cache(maxsize=65536)
def _prefix(text: str) -> tuple[int, int, int]:
    """(IP version, network as an int, mask as an int): matching is two integer operations."""
    net = ipaddress.ip_network(text)
    return net.version, int(net.network_address), int(net.netmask)


@lru_cache(maxsize=65536)
def _address(text: str) -> tuple[int, int]:
    address = ipaddress.ip_address(text)
    return address.version, int(address)


def _inside(address: tuple[int, int], prefix: str) -> bool:
    version, network, mask = _prefix(prefix)
    return version == address[0] and address[1] & mask == network


def rule_matches(rule: AclRule, packet: Packet) -> bool:
    src, dst, proto, sport, dport = packet
    if not (_inside(_address(src), rule.src_prefix) and _inside(_address(dst), rule.dst_prefix)):
        return False
    if rule.proto == 0:
        return True
    return (
        rule.proto == proto
        and rule.src_port_first <= sport <= rule.src_port_last
        and rule.dst_port_first <= dport <= rule.dst_port_last
    )


def describe_packet(packet: Packet) -> str:
    src, dst, proto, sport, dport = packet
    return f"{_hostport(src, sport)} -> {_hostport(dst, dport)} proto {proto}"


def _hostport(ip: str, port: int) -> str:
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def rule_view(rule: AclRule) -> RuleView:
    return RuleView(
        action=ACTIONS[rule.action],
        srcPrefix=rule.src_prefix,
        dstPrefix=rule.dst_prefix,
        proto=rule.proto,
        srcPorts=f"{rule.src_port_first}-{rule.src_port_last}",
        dstPorts=f"{rule.dst_port_first}-{rule.dst_port_last}",
    )


def check(objects: ObjectLookup, hop: Checkpoint, packet: Packet, sessions: Sessions) -> AclStep:
    direction = "input" if hop.direction == "in" else "output"
    step = AclStep(
        node=hop.node,
        interface=hop.interface,
        direction=direction,
        packet=describe_packet(packet),
        action="pass",
        passed=True,
        intent="",
    )
    binding = objects.get(f"acl-binding/{hop.interface}")
    names: tuple[str, ...] = ()
    if isinstance(binding, AclBinding):
        names = binding.input_acls if hop.direction == "in" else binding.output_acls
    if not names:
        step.intent = (
            f"not isolated: no NetworkPolicy selects pod {hop.pod} (no ACL on its interface)"
            if hop.pod
            else "no ACL on this interface"
        )
        return step
    where = (hop.node, hop.interface)
    if sessions.has(where, packet):
        step.action = "reflect-session"
        step.intent = "part of a flow a permit+reflect rule admitted on this interface"
        return step
    for name in names:
        acl = objects.get(f"acl/{name}")
        if not isinstance(acl, Acl):
            continue  # a dangling reference: the agent would NACK the binding
        for index, rule in enumerate(acl.rules):
            if rule_matches(rule, packet):
                if rule.action == 2:
                    sessions.add(where, packet)
                step.acl, step.ruleIndex, step.rule = name, index, rule_view(rule)
                step.action, step.passed = ACTIONS[rule.action], rule.action != 0
                _attribute(step, hop, acl, rule, packet)
                return step
    step.action, step.passed = "deny", False
    step.intent = "no rule matches: VPP's implicit deny"
    return step


def _attribute(step: AclStep, hop: Checkpoint, acl: Acl, rule: AclRule, packet: Packet) -> None:
    """The intent behind the deciding rule, from the compiler's provenance."""
    if acl.name == PERMIT_ALL_ACL.name and hop.pod is None:
        step.intent = (
            "the node's uplink ACL permits everything: policy is enforced on pod interfaces"
        )
        return
    side = _side(hop)
    if side is None:
        step.intent = f"ACL {acl.name}"
        return
    word = "Ingress" if hop.direction == "out" else "Egress"
    if not side.policies:
        step.intent = (
            f"not isolated for {word}: no NetworkPolicy with policyType {word} selects pod "
            f"{hop.pod}; permit+reflect so that replies of its other direction pass"
        )
        return
    if acl.name != side.acl:  # the pod's own-address ACL, placed before its policy ACL
        step.intent = "a pod can always reach itself: its own address is permitted"
        return
    listed = ", ".join(side.policies)
    if rule.action == 0:
        step.intent = (
            f"default deny because policies {listed} select pod {hop.pod} for {word} "
            "and none of their rules allows this"
        )
        step.policies = list(side.policies)
        return
    if rule == ICMP6_NEIGHBOR_DISCOVERY:
        step.intent = "IPv6 neighbour discovery, always permitted to an isolated pod"
        return
    origins = [o for o, raw in side.rules if any(rule_matches(r, packet) for r in raw)]
    step.intent = "; ".join(o.describe() for o in origins) or f"a permit of {listed}"
    step.policies = [o.policy for o in origins if o.policy]
    step.ruleIndices = [o.rule_index for o in origins if o.policy]


def _side(hop: Checkpoint) -> DirectionProvenance | None:
    if hop.provenance is None:
        return None
    return hop.provenance.ingress if hop.direction == "out" else hop.provenance.egress
