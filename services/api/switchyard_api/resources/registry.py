"""The kinds the API serves and how they are addressed."""

from __future__ import annotations

from dataclasses import dataclass

from .bgp_peer import BgpPeerSpec
from .common import StrictModel
from .endpoints import EndpointsSpec
from .load_balancer import LoadBalancerSpec
from .namespace import NamespaceSpec
from .network_policy import NetworkPolicySpec
from .node import NodeSpec, NodeStatus
from .object_status import ObjectStatus
from .pod import PodSpec
from .pod_status import PodStatus, PodStatusIn
from .service import ServiceSpec


@dataclass(frozen=True)
class KindInfo:
    kind: str
    plural: str  # path segment
    namespaced: bool
    spec_model: type[StrictModel]
    status_model: type[StrictModel] | None = None
    # EndpointSlice keeps Kubernetes' shape: its fields sit beside metadata, not under spec.
    flat: bool = False
    # Fields never returned to clients (secrets).
    write_only: tuple[str, ...] = ()
    # A status written through a /status subresource and shown beside the convergence status.
    reported_status: type[StrictModel] | None = None
    document_status: type[StrictModel] = ObjectStatus

    @property
    def singular_id(self) -> str:
        """Used in operationIds: listServices, createService, ..."""
        return self.kind


NAMESPACE = KindInfo("Namespace", "namespaces", False, NamespaceSpec)
NODE = KindInfo("Node", "nodes", False, NodeSpec, NodeStatus)
LOAD_BALANCER = KindInfo("LoadBalancer", "load-balancers", False, LoadBalancerSpec)
BGP_PEER = KindInfo("BgpPeer", "bgp-peers", False, BgpPeerSpec, write_only=("password",))
POD = KindInfo("Pod", "pods", True, PodSpec, reported_status=PodStatusIn, document_status=PodStatus)
SERVICE = KindInfo("Service", "services", True, ServiceSpec)
ENDPOINTS = KindInfo("EndpointSlice", "endpoints", True, EndpointsSpec, flat=True)
NETWORK_POLICY = KindInfo("NetworkPolicy", "network-policies", True, NetworkPolicySpec)

ALL_KINDS: tuple[KindInfo, ...] = (
    NAMESPACE,
    NODE,
    LOAD_BALANCER,
    BGP_PEER,
    POD,
    SERVICE,
    ENDPOINTS,
    NETWORK_POLICY,
)
BY_KIND = {info.kind: info for info in ALL_KINDS}
