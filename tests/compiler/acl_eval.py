"""Evaluate flows against *compiled* ACLs with VPP's ACL semantics (test support).

Path model: what a packet meets in VPP when the cnat feature is enabled on every managed
interface (the uplink and every pod interface), as in VPP 26.10's feature order (input arc:
cnat-input before acl-plugin-in; output arc: acl-plugin-out before cnat-output):

1. Service translation happens first. A flow to a service VIP:port is translated to the backend
   pod IP:targetPort by cnat-input on the first interface the packet enters (the client pod's
   interface, or the uplink for a client outside the node) - before any input ACL. cnat puts
   the reverse rewrite of the reply "in output", i.e. after the output ACL of the last
   interface. So every ACL on both the forward and the reply path sees the backend tuple.
2. Forward checkpoints, in order (each an interface + direction on a node):
     pod P on N1 -> pod Q on N2:  P.input, uplink(N1).output, uplink(N2).input, Q.output
     same node:                   P.input, Q.output            (the uplinks are skipped)
     pod P -> outside/other node: P.input, uplink(N1).output [, uplink(N2).input to a node host]
     outside -> pod Q on N:       uplink(N).input, Q.output
     own node's host -> pod Q:    Q.output  (the host's tap carries no ACL)
   A pod's traffic to its own address never reaches VPP (the pod's kernel loops it back),
   unless it went to a service whose chosen backend is the pod itself (hairpin): then it
   leaves and re-enters the pod's interface, P.input then P.output, with the translated
   destination (`kernel_loopback=False` forces that path for direct self traffic too).
3. The reply (the 5-tuple swapped) traverses the same interfaces in reverse order with the
   directions swapped (Q.input, uplink(N2).output, uplink(N1).input, P.output).
4. At each checkpoint: no binding, or an empty ACL list for that direction -> pass. Otherwise a
   reflect session on that interface (created earlier by a permit+reflect in either direction,
   matching the packet's 5-tuple in either orientation) -> pass. Otherwise the ACLs of the list
   are scanned in order, rules in order, first match decides: 0 deny, 1 permit, 2 permit and
   create a session on this interface. No match -> deny (VPP's implicit deny).
   Rule match: same family, src/dst inside the prefixes; proto 0 matches any protocol (ports
   ignored), otherwise proto equal and both ports inside their ranges. VPP reads L4 ports only
   for TCP and UDP: other protocols (SCTP) are matched with ports 0.
A flow connects when its first packet and the reply both pass every checkpoint.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache

from switchyard_contract.nodeconfig import Acl, AclBinding, AclRule, NodeObject

PROTO = {"TCP": 6, "UDP": 17, "SCTP": 132}


@dataclass(frozen=True)
class Host:
    """Something with an address: a pod (node + interface), a node's host stack (node only)
    or a machine outside the cluster (neither)."""

    ip: str
    node: str | None = None
    interface: str | None = None

    @property
    def is_pod(self) -> bool:
        return self.interface is not None


Packet = tuple[str, str, int, int, int]  # src, dst, proto, sport, dport
Checkpoint = tuple[str, str, str]  # node, interface, "in" | "out"


@dataclass
class Dataplane:
    objects: Mapping[str, Mapping[str, NodeObject]]  # node -> compiled objects
    uplinks: Mapping[str, str]  # node -> uplink interface
    hosts: Mapping[str, Host]  # address -> who owns it
    # (vip, proto, port) -> (backend address, target port)
    services: Mapping[tuple[str, int, int], tuple[str, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.services = {
            (_norm(vip), proto, port): (_norm(backend), target)
            for (vip, proto, port), (backend, target) in self.services.items()
        }

    def connects(
        self,
        src_ip: str,
        dst_ip: str,
        protocol: str,
        port: int,
        sport: int = 40000,
        kernel_loopback: bool = True,
    ) -> bool:
        proto = PROTO[protocol]
        src_ip, dst_ip = _norm(src_ip), _norm(dst_ip)
        translated = self.services.get((dst_ip, proto, port))
        if translated is not None:
            dst_ip, port = translated
        src = self.hosts.get(src_ip, Host(src_ip))
        dst = self.hosts.get(dst_ip, Host(dst_ip))
        if src.is_pod and src.ip == dst.ip and translated is None and kernel_loopback:
            return True
        hops = self.path(src, dst)
        sessions: dict[tuple[str, str], set[Packet]] = {}
        if proto not in (6, 17):  # VPP's ACL plugin parses L4 ports of TCP and UDP only
            sport = port = 0
        forward: Packet = (src_ip, dst_ip, proto, sport, port)
        reply: Packet = (dst_ip, src_ip, proto, port, sport)
        back = [(n, i, "out" if d == "in" else "in") for n, i, d in reversed(hops)]
        return all(self._check(h, forward, sessions) for h in hops) and all(
            self._check(h, reply, sessions) for h in back
        )

    def path(self, src: Host, dst: Host) -> list[Checkpoint]:
        hops: list[Checkpoint] = []
        if src.is_pod:
            assert src.node is not None and src.interface is not None
            hops.append((src.node, src.interface, "in"))
        if src.node is None or dst.node is None or src.node != dst.node:
            if src.node is not None and src.node in self.uplinks:
                hops.append((src.node, self.uplinks[src.node], "out"))
            if dst.node is not None and dst.node in self.uplinks:
                hops.append((dst.node, self.uplinks[dst.node], "in"))
        if dst.is_pod:
            assert dst.node is not None and dst.interface is not None
            hops.append((dst.node, dst.interface, "out"))
        return hops

    def _check(
        self, hop: Checkpoint, packet: Packet, sessions: dict[tuple[str, str], set[Packet]]
    ) -> bool:
        node, interface, direction = hop
        objects = self.objects.get(node, {})
        binding = objects.get(f"acl-binding/{interface}")
        if binding is None:
            return True
        assert isinstance(binding, AclBinding)
        names = binding.input_acls if direction == "in" else binding.output_acls
        if not names:
            return True
        table = sessions.setdefault((node, interface), set())
        src, dst, proto, sport, dport = packet
        if packet in table or (dst, src, proto, dport, sport) in table:
            return True
        for name in names:
            acl = objects[f"acl/{name}"]  # KeyError = a dangling reference: a real bug
            assert isinstance(acl, Acl)
            for rule in acl.rules:
                if rule_matches(rule, packet):
                    if rule.action == 2:
                        table.add(packet)
                    return rule.action != 0
        return False


@cache
def _norm(ip: str) -> str:
    return str(ipaddress.ip_address(ip))


_net = lru_cache(maxsize=None)(ipaddress.ip_network)
_addr = lru_cache(maxsize=None)(ipaddress.ip_address)


def rule_matches(rule: AclRule, packet: Packet) -> bool:
    src, dst, proto, sport, dport = packet
    src_net, dst_net = _net(rule.src_prefix), _net(rule.dst_prefix)
    src_addr, dst_addr = _addr(src), _addr(dst)
    if src_net.version != src_addr.version or dst_net.version != dst_addr.version:
        return False
    if src_addr not in src_net or dst_addr not in dst_net:
        return False
    if rule.proto == 0:
        return True
    return (
        rule.proto == proto
        and rule.src_port_first <= sport <= rule.src_port_last
        and rule.dst_port_first <= dport <= rule.dst_port_last
    )


def build_dataplane(
    compiled: Mapping[str, Mapping[str, NodeObject]],
    intent: list[object],
    services: Mapping[tuple[str, int, int], tuple[str, int]] | None = None,
) -> Dataplane:
    """The topology from the intent (pods' nodes/interfaces/IPs, nodes' uplinks/addresses)
    and the ACL state from the compiled objects of every node."""
    uplinks: dict[str, str] = {}
    hosts: dict[str, Host] = {}
    for obj in intent:
        kind = getattr(obj, "kind", "")
        spec = getattr(obj, "spec", None)
        name = getattr(obj, "name", "")
        if kind == "Node" and spec is not None:
            if spec.uplinkInterface:
                uplinks[name] = spec.uplinkInterface
            for address in spec.addresses:
                hosts[_norm(address)] = Host(_norm(address), node=name)
        elif kind == "Pod" and spec is not None:
            for ip in spec.podIPs:
                hosts[_norm(ip)] = Host(_norm(ip), spec.nodeName, spec.interface or None)
    return Dataplane(compiled, uplinks, hosts, dict(services or {}))
