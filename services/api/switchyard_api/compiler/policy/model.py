"""Internal value types of the policy compiler: the slices of intent it depends on."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass

from ...resources.pod import PodSpec

PodKey = tuple[str, str]  # (namespace, name)
PolicyKey = tuple[str, str]  # (namespace, name)
Direction = str  # "Ingress" | "Egress" (the policyTypes spelling)

# Kubernetes' API server sets this immutable label on every namespace; the e2e netpol suite
# (and most real policies) select namespaces by it, so the compiler always adds it.
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"

PROTOCOL_NUMBERS: Mapping[str, int] = {"TCP": 6, "UDP": 17, "SCTP": 132}


@dataclass(frozen=True, slots=True)
class ContainerPortInfo:
    name: str | None
    number: int
    protocol: str


@dataclass(frozen=True, slots=True)
class PodInfo:
    """What policy compilation needs of a pod (labels, placement, addresses, named ports)."""

    namespace: str
    name: str
    labels: Mapping[str, str]
    node: str
    ips: tuple[str, ...]
    interface: str
    ports: tuple[ContainerPortInfo, ...]

    @property
    def key(self) -> PodKey:
        return (self.namespace, self.name)

    @staticmethod
    def from_spec(namespace: str, name: str, labels: Mapping[str, str], spec: PodSpec) -> PodInfo:
        return PodInfo(
            namespace=namespace,
            name=name,
            labels=dict(labels),
            node=spec.nodeName,
            ips=tuple(spec.podIPs),
            interface=spec.interface,
            ports=tuple(ContainerPortInfo(p.name, p.containerPort, p.protocol) for p in spec.ports),
        )

    def named_port(self, name: str, protocol: str) -> int | None:
        """Kubernetes: a named port is "a named port on a pod" *on the given protocol*."""
        for port in self.ports:
            if port.name == name and port.protocol == protocol:
                return port.number
        return None

    def port_names(self) -> frozenset[str]:
        return frozenset(p.name for p in self.ports if p.name)


def normal_ip(ip: str) -> str:
    """The canonical text of an address ("fd01::0:1" -> "fd01::1")."""
    return str(ipaddress.ip_address(ip))


def host_prefix(ip: str) -> str:
    address = ipaddress.ip_address(ip)
    return f"{address}/{address.max_prefixlen}"


def any_prefix(version: int) -> str:
    return "0.0.0.0/0" if version == 4 else "::/0"


def ip_version(text: str) -> int:
    return ipaddress.ip_network(text, strict=False).version
