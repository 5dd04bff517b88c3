"""What explain reads of the compiler's state: one node's compiled objects by key, and who
owns an address. Every lookup is O(1) in the cluster's size (no node config is copied)."""

from __future__ import annotations

from dataclasses import dataclass

from switchyard_contract.nodeconfig import NodeObject

from ..compiler.core import CoreCompiler
from ..compiler.emitter import GLOBAL
from ..compiler.engine import Compiler
from ..compiler.policy import PolicyCompiler
from ..compiler.policy.model import PodInfo, normal_ip
from ..compiler.policy.provenance import PodProvenance


@dataclass(frozen=True, slots=True)
class Host:
    ip: str
    node: str | None = None
    interface: str | None = None
    pod: str | None = None  # "ns/name"

    @property
    def is_pod(self) -> bool:
        return self.interface is not None


class NodeObjects:
    """A read-only mapping-like view of one node's compiled objects (own over shared)."""

    def __init__(self, topology: Topology, node: str) -> None:
        self._topology, self._node = topology, node

    def get(self, key: str) -> NodeObject | None:
        return self._topology.object_at(self._node, key)


class Topology:
    def __init__(self, compiler: Compiler) -> None:
        core, policy = compiler.part(CoreCompiler), compiler.part(PolicyCompiler)
        if core is None or policy is None:
            raise RuntimeError("explain needs the core and the policy compiler parts")
        self.compiler, self.core, self.policy = compiler, core, policy
        self._node_by_address: dict[str, str] | None = None

    def objects(self, node: str) -> NodeObjects:
        return NodeObjects(self, node)

    def object_at(self, node: str, key: str) -> NodeObject | None:
        if node not in self.compiler.nodes:
            return None
        found = self.policy.object_at(node, key)
        if found is None:
            found = self.core.objects(node).get(key)
        if found is None:
            found = self.core.objects(GLOBAL).get(key)
        return found

    def pod(self, name: str) -> PodInfo | None:
        namespace, _, pod = name.partition("/")
        return self.policy.pod((namespace, pod))

    def provenance(self, host: Host) -> PodProvenance | None:
        if host.pod is None:
            return None
        namespace, _, name = host.pod.partition("/")
        return self.policy.provenance((namespace, name))

    def uplink(self, node: str) -> str:
        return self.policy.uplink(node)

    def pod_host(self, pod: PodInfo, ip: str) -> Host:
        return Host(normal_ip(ip), pod.node or None, pod.interface or None, _name(pod))

    def host_at(self, ip: str) -> Host:
        ip = normal_ip(ip)
        pod = self.policy.pod_at(ip)
        if pod is not None:
            return self.pod_host(pod, ip)
        return Host(ip, self.node_with_address(ip))

    def node_with_address(self, ip: str) -> str | None:
        if self._node_by_address is None:  # built once per explain, O(nodes)
            self._node_by_address = {
                normal_ip(address): name
                for name, node in self.core.index.nodes.items()
                for address in node.spec.addresses
            }
        return self._node_by_address.get(normal_ip(ip))


def _name(pod: PodInfo) -> str:
    return f"{pod.namespace}/{pod.name}"


def family(ip: str) -> int:
    return 6 if ":" in ip else 4
