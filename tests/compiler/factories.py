"""Builders of validated IntentObjects for compiler tests and benchmarks.

Each builder takes the common fields as keyword arguments and passes any other camelCase spec
field through (`**spec`), so tests can set whatever the schema allows. Specs are validated by
the real pydantic models: a builder never produces intent the API would reject.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from switchyard_api.resources.bgp_peer import BgpPeerSpec
from switchyard_api.resources.endpoints import EndpointsSpec
from switchyard_api.resources.intent import IntentObject
from switchyard_api.resources.load_balancer import LoadBalancerSpec
from switchyard_api.resources.namespace import NamespaceSpec
from switchyard_api.resources.network_policy import NetworkPolicySpec
from switchyard_api.resources.node import NodeSpec
from switchyard_api.resources.pod import PodSpec
from switchyard_api.resources.service import ServiceSpec


def _labels(labels: Mapping[str, str] | None) -> dict[str, str]:
    return dict(labels or {})


def make_namespace(
    name: str = "default", labels: Mapping[str, str] | None = None, rv: int = 0
) -> IntentObject[NamespaceSpec]:
    return IntentObject("Namespace", "", name, NamespaceSpec(), _labels(labels), rv)


def make_node(
    name: str,
    addresses: Sequence[str] = ("10.0.0.1",),
    pod_cidrs: Sequence[str] = (),
    labels: Mapping[str, str] | None = None,
    bgp: Mapping[str, Any] | None = None,
    uplink: str = "",
    rv: int = 0,
    **spec: Any,
) -> IntentObject[NodeSpec]:
    """`bgp` as {"asn": ..., "routerId": ...}; `loadBalancer={...}` passes through."""
    body: dict[str, Any] = {
        "addresses": list(addresses),
        "podCIDRs": list(pod_cidrs),
        "uplinkInterface": uplink,
        **spec,
    }
    if bgp is not None:
        body["bgp"] = dict(bgp)
    return IntentObject("Node", "", name, NodeSpec.model_validate(body), _labels(labels), rv)


def make_pod(
    name: str,
    node: str,
    ips: Sequence[str] = (),
    namespace: str = "default",
    labels: Mapping[str, str] | None = None,
    interface: str = "",
    ports: Sequence[Mapping[str, Any]] = (),
    rv: int = 0,
) -> IntentObject[PodSpec]:
    """`ports` as [{"name": "http", "containerPort": 8080, "protocol": "TCP"}, ...]."""
    spec = PodSpec.model_validate(
        {
            "nodeName": node,
            "podIPs": list(ips),
            "interface": interface,
            "ports": [dict(p) for p in ports],
        }
    )
    return IntentObject("Pod", namespace, name, spec, _labels(labels), rv)


def make_service(
    name: str,
    cluster_ips: Sequence[str] = ("10.96.0.10",),
    ports: Sequence[Mapping[str, Any]] = ({"port": 80},),
    namespace: str = "default",
    type: str = "ClusterIP",
    labels: Mapping[str, str] | None = None,
    rv: int = 0,
    **spec: Any,
) -> IntentObject[ServiceSpec]:
    """Other fields camelCase: externalIPs, loadBalancerIPs, sessionAffinity,
    sessionAffinityConfig, externalTrafficPolicy, internalTrafficPolicy."""
    body = {"type": type, "clusterIPs": list(cluster_ips), "ports": [dict(p) for p in ports]}
    body.update(spec)
    return IntentObject(
        "Service", namespace, name, ServiceSpec.model_validate(body), _labels(labels), rv
    )


def endpoint(
    address: str | Sequence[str],
    node: str | None = None,
    pod: str | None = None,
    ready: bool = True,
    serving: bool | None = None,
    terminating: bool = False,
    pod_namespace: str | None = None,
    zone: str | None = None,
) -> dict[str, Any]:
    """One endpoint entry for make_endpoints."""
    addresses = [address] if isinstance(address, str) else list(address)
    entry: dict[str, Any] = {
        "addresses": addresses,
        "conditions": {"ready": ready, "serving": serving, "terminating": terminating},
    }
    if node is not None:
        entry["nodeName"] = node
    if pod is not None:
        ref: dict[str, Any] = {"kind": "Pod", "name": pod}
        if pod_namespace is not None:
            ref["namespace"] = pod_namespace
        entry["targetRef"] = ref
    if zone is not None:
        entry["zone"] = zone
    return entry


def make_endpoints(
    service: str,
    endpoints: Sequence[Mapping[str, Any]] = (),
    ports: Sequence[Mapping[str, Any]] = (),
    namespace: str = "default",
    address_type: str = "IPv4",
    rv: int = 0,
) -> IntentObject[EndpointsSpec]:
    """The EndpointSlice of `service` (same name). Build entries with `endpoint(...)`;
    `ports` as [{"name": "http", "port": 8080, "protocol": "TCP"}]."""
    spec = EndpointsSpec.model_validate(
        {
            "addressType": address_type,
            "endpoints": [dict(e) for e in endpoints],
            "ports": [dict(p) for p in ports],
        }
    )
    return IntentObject("EndpointSlice", namespace, service, spec, {}, rv)


def make_network_policy(
    name: str,
    namespace: str = "default",
    pod_selector: Mapping[str, Any] | None = None,
    labels: Mapping[str, str] | None = None,
    rv: int = 0,
    **spec: Any,
) -> IntentObject[NetworkPolicySpec]:
    """`pod_selector` as {"matchLabels": {...}}; other fields camelCase (policyTypes,
    ingress, egress) as Kubernetes writes them ("from", "except" accepted)."""
    body: dict[str, Any] = {"podSelector": dict(pod_selector or {})}
    body.update(spec)
    return IntentObject(
        "NetworkPolicy",
        namespace,
        name,
        NetworkPolicySpec.model_validate(body),
        _labels(labels),
        rv,
    )


def make_load_balancer(
    name: str,
    vip: str = "203.0.113.10/32",
    backends: Mapping[str, Any] | None = None,
    lb_node_selector: Mapping[str, Any] | None = None,
    protocol: str = "TCP",
    port: int = 80,
    encap: str = "gre4",
    labels: Mapping[str, str] | None = None,
    rv: int = 0,
    **spec: Any,
) -> IntentObject[LoadBalancerSpec]:
    """`backends` as {"nodeSelector": {...}} / {"service": {"namespace", "name"}} /
    {"addresses": [...]} (default: every node); other fields camelCase (dscp,
    newFlowsTableLength, advertise)."""
    body: dict[str, Any] = {
        "vip": vip,
        "protocol": protocol,
        "port": port,
        "encap": encap,
        "lbNodeSelector": dict(lb_node_selector or {}),
        "backends": dict(backends) if backends is not None else {"nodeSelector": {}},
    }
    body.update(spec)
    return IntentObject(
        "LoadBalancer", "", name, LoadBalancerSpec.model_validate(body), _labels(labels), rv
    )


def make_bgp_peer(
    name: str,
    peer_ip: str = "10.0.0.254",
    asn: int = 65000,
    node_selector: Mapping[str, Any] | None = None,
    labels: Mapping[str, str] | None = None,
    rv: int = 0,
    **spec: Any,
) -> IntentObject[BgpPeerSpec]:
    body: dict[str, Any] = {
        "peerIP": peer_ip,
        "asNumber": asn,
        "nodeSelector": dict(node_selector or {}),
    }
    body.update(spec)
    return IntentObject("BgpPeer", "", name, BgpPeerSpec.model_validate(body), _labels(labels), rv)
