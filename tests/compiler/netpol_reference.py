"""An independent reference of Kubernetes NetworkPolicy semantics (test support).

It never looks at compiled ACLs, nor at the compiler's code: it answers "is this connection
allowed?" straight from the intent, the way the Kubernetes documentation and the netpol e2e
suite define it, plus Switchyard's documented choices where Kubernetes leaves it open:
- traffic from a pod to its own address is always allowed (it never leaves the pod);
- the pod's own node (its addresses) may always connect to the pod (kubelet probes);
- ipBlock matches any address, pod addresses included;
- a named port matches only a destination pod that has a container port of that name and
  protocol whose number is the destination port (the destination pod is the selected pod for
  ingress and the peer for egress); an address that is no pod's never matches a named port;
- every namespace carries the label kubernetes.io/metadata.name=<name>;
- a flow to a service is judged on its backend pod and target port (post-DNAT).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

NAME_LABEL = "kubernetes.io/metadata.name"


@dataclass(frozen=True)
class RefPod:
    namespace: str
    name: str
    labels: Mapping[str, str]
    node: str
    ips: tuple[str, ...]
    ports: Mapping[tuple[str, str], int]  # (name, protocol) -> number


@dataclass
class RefCluster:
    namespaces: dict[str, dict[str, str]] = field(default_factory=dict)
    node_addresses: dict[str, tuple[str, ...]] = field(default_factory=dict)
    pods: list[RefPod] = field(default_factory=list)
    policies: list[tuple[str, Any]] = field(default_factory=list)  # (namespace, spec)
    _by_ip: dict[Any, RefPod] = field(default_factory=dict, repr=False)

    @staticmethod
    def from_intent(objects: Sequence[Any]) -> RefCluster:
        """From IntentObjects (Namespace, Node, Pod, NetworkPolicy); other kinds are ignored."""
        cluster = RefCluster()
        for obj in objects:
            if obj.kind == "Namespace":
                cluster.namespaces[obj.name] = dict(obj.labels)
            elif obj.kind == "Node":
                cluster.node_addresses[obj.name] = tuple(obj.spec.addresses)
            elif obj.kind == "Pod":
                ports = {(p.name, p.protocol): p.containerPort for p in obj.spec.ports if p.name}
                cluster.pods.append(
                    RefPod(
                        obj.namespace,
                        obj.name,
                        dict(obj.labels),
                        obj.spec.nodeName,
                        tuple(obj.spec.podIPs),
                        ports,
                    )
                )
            elif obj.kind == "NetworkPolicy":
                cluster.policies.append((obj.namespace, obj.spec))
        return cluster

    def pod_at(self, ip: str) -> RefPod | None:
        if len(self._by_ip) != sum(len(p.ips) for p in self.pods):
            self._by_ip = {ipaddress.ip_address(a): p for p in self.pods for a in p.ips}
        return self._by_ip.get(ipaddress.ip_address(ip))

    def namespace_labels(self, name: str) -> dict[str, str]:
        return {**self.namespaces.get(name, {}), NAME_LABEL: name}

    # -- the semantics --------------------------------------------------------------------

    def allowed(self, src_ip: str, dst_ip: str, protocol: str, port: int) -> bool:
        src, dst = self.pod_at(src_ip), self.pod_at(dst_ip)
        if src is not None and src is dst:
            return True
        return self._egress_ok(src, dst, dst_ip, protocol, port) and self._ingress_ok(
            src, src_ip, dst, protocol, port
        )

    def _policies(self, pod: RefPod, policy_type: str) -> list[Any]:
        found = []
        for namespace, spec in self.policies:
            if namespace != pod.namespace or not selects(spec.podSelector, pod.labels):
                continue
            types = spec.policyTypes or (["Ingress", "Egress"] if spec.egress else ["Ingress"])
            if policy_type in types:
                found.append((namespace, spec))
        return found

    def _egress_ok(
        self, src: RefPod | None, dst: RefPod | None, dst_ip: str, protocol: str, port: int
    ) -> bool:
        if src is None:
            return True
        policies = self._policies(src, "Egress")
        if not policies:
            return True
        return any(
            self._peers_match(rule.to, namespace, dst, dst_ip)
            and ports_match(rule.ports, dst, protocol, port)
            for namespace, spec in policies
            for rule in spec.egress
        )

    def _ingress_ok(
        self, src: RefPod | None, src_ip: str, dst: RefPod | None, protocol: str, port: int
    ) -> bool:
        if dst is None:
            return True
        policies = self._policies(dst, "Ingress")
        if not policies:
            return True
        if ipaddress.ip_address(src_ip) in {
            ipaddress.ip_address(a) for a in self.node_addresses.get(dst.node, ())
        }:
            return True
        return any(
            self._peers_match(rule.from_, namespace, src, src_ip)
            and ports_match(rule.ports, dst, protocol, port)
            for namespace, spec in policies
            for rule in spec.ingress
        )

    def _peers_match(self, peers: Any, policy_ns: str, pod: RefPod | None, ip: str) -> bool:
        if not peers:
            return True
        for peer in peers:
            if peer.ipBlock is not None:
                if in_block(ip, peer.ipBlock.cidr, peer.ipBlock.except_):
                    return True
                continue
            if pod is None:
                continue
            if peer.namespaceSelector is None:
                ns_ok = pod.namespace == policy_ns
            else:
                ns_ok = selects(peer.namespaceSelector, self.namespace_labels(pod.namespace))
            pod_ok = peer.podSelector is None or selects(peer.podSelector, pod.labels)
            if ns_ok and pod_ok:
                return True
        return False


def ports_match(ports: Any, dst: RefPod | None, protocol: str, port: int) -> bool:
    if not ports:
        return True
    for entry in ports:
        if entry.protocol != protocol:
            continue
        if entry.port is None:
            return True
        if isinstance(entry.port, str):
            if dst is not None and dst.ports.get((entry.port, protocol)) == port:
                return True
            continue
        last = entry.endPort if entry.endPort is not None else entry.port
        if entry.port <= port <= last:
            return True
    return False


def in_block(ip: str, cidr: str, excepts: Sequence[str]) -> bool:
    address = ipaddress.ip_address(ip)
    net = ipaddress.ip_network(cidr)
    if address.version != net.version or address not in net:
        return False
    return not any(address in ipaddress.ip_network(e) for e in excepts)


def selects(selector: Any, labels: Mapping[str, str]) -> bool:
    """Kubernetes label-selector semantics, written independently of LabelSelector.matches."""
    if any(labels.get(k) != v for k, v in selector.matchLabels.items()):
        return False
    for req in selector.matchExpressions:
        has = req.key in labels
        ok = {
            "In": has and labels.get(req.key) in req.values,
            "NotIn": not has or labels.get(req.key) not in req.values,
            "Exists": has,
            "DoesNotExist": not has,
        }[req.operator]
        if not ok:
            return False
    return True
