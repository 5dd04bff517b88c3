"""Kubernetes objects (their JSON, as the API server sends it) to Switchyard documents.

Pure functions: one Kubernetes object in, one Switchyard document (or None when the object is
not mirrored) out. docs/kubernetes.md lists every field.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from .objects import SOURCE_ANNOTATION, Desired, Key

ANNOTATION_PREFIX = "switchyard.io/"
UPLINK_ANNOTATION = ANNOTATION_PREFIX + "uplink-interface"
BGP_ASN_ANNOTATION = ANNOTATION_PREFIX + "bgp-asn"
BGP_ROUTER_ID_ANNOTATION = ANNOTATION_PREFIX + "bgp-router-id"
POD_INTERFACE_ANNOTATION = ANNOTATION_PREFIX + "interface"
TERMINAL_PHASES = ("Succeeded", "Failed")


@dataclass(frozen=True)
class NodeDefaults:
    """Node settings from adapter flags, used where a node has no switchyard.io/ annotation."""

    uplink_interface: str = ""
    bgp_asn: int | None = None


def metadata(obj: dict[str, Any]) -> dict[str, Any]:
    meta: dict[str, Any] = obj.get("metadata") or {}
    return meta


def labels_of(obj: dict[str, Any]) -> dict[str, str]:
    return dict(metadata(obj).get("labels") or {})


def annotations_of(obj: dict[str, Any]) -> dict[str, str]:
    return dict(metadata(obj).get("annotations") or {})


def canonical_ip(value: str) -> str:
    """Switchyard stores addresses canonically; so must the adapter, or every pass would
    see a difference. Invalid text is passed on for Switchyard to reject by field."""
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return value


def canonical_cidr(value: str) -> str:
    try:
        return str(ipaddress.ip_network(value, strict=True))
    except ValueError:
        return value


def drop_none(value: Any) -> Any:
    """Kubernetes JSON may carry explicit nulls; Switchyard documents leave such fields out."""
    if isinstance(value, dict):
        return {k: drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_none(v) for v in value]
    return value


def source_ref(kind: str, api_version: str, obj: dict[str, Any]) -> dict[str, Any]:
    meta = metadata(obj)
    ref = {"kind": kind, "apiVersion": api_version, "name": meta.get("name", "")}
    for field in ("namespace", "uid", "resourceVersion"):
        if meta.get(field):
            ref[field] = meta[field]
    return ref


def _desired(
    key: Key,
    labels: dict[str, str],
    spec: dict[str, Any],
    source: dict[str, Any],
    ready: bool | None = None,
) -> Desired:
    where = f"{source['namespace']}/{source['name']}" if source.get("namespace") else source["name"]
    annotations = {SOURCE_ANNOTATION: f"{source['kind']} {where}"}
    return Desired(key, labels, spec, source, annotations, ready)


def namespace(obj: dict[str, Any]) -> Desired:
    name = metadata(obj)["name"]
    source = source_ref("Namespace", "v1", obj)
    return _desired(Key("Namespace", "", name), labels_of(obj), {}, source)


def _addresses(status: dict[str, Any], kinds: tuple[str, ...]) -> list[str]:
    found: list[str] = []
    for wanted in kinds:
        for address in status.get("addresses") or []:
            if address.get("type") == wanted:
                ip = canonical_ip(str(address.get("address", "")))
                if ip and ip not in found:
                    found.append(ip)
    return found


def node(obj: dict[str, Any], defaults: NodeDefaults) -> Desired | None:
    """None for a node that reports no address yet (Switchyard needs at least one)."""
    meta, spec, status = metadata(obj), obj.get("spec") or {}, obj.get("status") or {}
    addresses = _addresses(status, ("InternalIP", "ExternalIP"))
    if not addresses:
        return None
    cidrs = spec.get("podCIDRs") or ([spec["podCIDR"]] if spec.get("podCIDR") else [])
    notes = annotations_of(obj)
    node_spec: dict[str, Any] = {
        "addresses": addresses,
        "podCIDRs": [canonical_cidr(c) for c in cidrs],
        "uplinkInterface": notes.get(UPLINK_ANNOTATION, defaults.uplink_interface),
    }
    asn_text = notes.get(BGP_ASN_ANNOTATION)
    asn: Any = defaults.bgp_asn
    if asn_text is not None:
        # Not a number: sent as given, so that Switchyard names the field it rejects.
        asn = int(asn_text) if asn_text.strip().isdigit() else asn_text
    if asn is not None:
        ipv4 = [a for a in addresses if ipaddress.ip_address(a).version == 4]
        router_id = notes.get(BGP_ROUTER_ID_ANNOTATION) or (ipv4[0] if ipv4 else "")
        node_spec["bgp"] = {"asn": asn, "routerId": router_id}
    source = source_ref("Node", "v1", obj)
    return _desired(Key("Node", "", meta["name"]), labels_of(obj), node_spec, source)


def pod_ready(obj: dict[str, Any]) -> bool:
    for condition in (obj.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return bool(condition.get("status") == "True")
    return False


def _pod_ips(status: dict[str, Any]) -> list[str]:
    ips = [canonical_ip(str(p.get("ip", ""))) for p in status.get("podIPs") or []]
    if not ips and status.get("podIP"):
        ips = [canonical_ip(str(status["podIP"]))]
    return [ip for ip in ips if ip]


def _named_ports(spec: dict[str, Any]) -> list[dict[str, Any]]:
    ports: list[dict[str, Any]] = []
    seen: set[str] = set()
    for container in spec.get("containers") or []:
        for port in container.get("ports") or []:
            name = port.get("name")
            if not name or name in seen:
                continue
            seen.add(name)
            ports.append(
                {
                    "name": name,
                    "containerPort": port.get("containerPort"),
                    "protocol": port.get("protocol") or "TCP",
                }
            )
    return ports


def pod(obj: dict[str, Any]) -> Desired | None:
    """None for pods Switchyard does not carry: host-network, unscheduled or finished."""
    meta, spec, status = metadata(obj), obj.get("spec") or {}, obj.get("status") or {}
    if spec.get("hostNetwork") or not spec.get("nodeName"):
        return None
    if status.get("phase") in TERMINAL_PHASES:
        return None
    pod_spec = {
        "nodeName": spec["nodeName"],
        "podIPs": _pod_ips(status),
        "interface": annotations_of(obj).get(POD_INTERFACE_ANNOTATION, ""),
        "ports": _named_ports(spec),
    }
    key = Key("Pod", meta["namespace"], meta["name"])
    source = source_ref("Pod", "v1", obj)
    return _desired(key, labels_of(obj), pod_spec, source, ready=pod_ready(obj))


def _service_port(port: dict[str, Any], with_node_port: bool) -> dict[str, Any]:
    mapped: dict[str, Any] = {"protocol": port.get("protocol") or "TCP", "port": port.get("port")}
    if port.get("name"):
        mapped["name"] = port["name"]
    if port.get("targetPort") not in (None, ""):
        mapped["targetPort"] = port["targetPort"]
    if with_node_port and port.get("nodePort"):
        mapped["nodePort"] = port["nodePort"]
    return mapped


def service(obj: dict[str, Any]) -> Desired | None:
    """None for what Switchyard does not proxy: ExternalName and headless services."""
    meta, spec, status = metadata(obj), obj.get("spec") or {}, obj.get("status") or {}
    kind = spec.get("type") or "ClusterIP"
    cluster_ips = spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else [])
    if kind == "ExternalName" or not cluster_ips or cluster_ips[0] == "None":
        return None
    exposed = kind in ("NodePort", "LoadBalancer")
    ingress = (status.get("loadBalancer") or {}).get("ingress") or []
    service_spec: dict[str, Any] = {
        "type": kind,
        "clusterIPs": [canonical_ip(ip) for ip in cluster_ips],
        "ports": [_service_port(p, exposed) for p in spec.get("ports") or []],
        "externalIPs": [canonical_ip(ip) for ip in spec.get("externalIPs") or []],
        "loadBalancerIPs": (
            [canonical_ip(i["ip"]) for i in ingress if i.get("ip")]
            if kind == "LoadBalancer"
            else []
        ),
        "sessionAffinity": spec.get("sessionAffinity") or "None",
        "externalTrafficPolicy": (spec.get("externalTrafficPolicy") or "Cluster")
        if exposed
        else "Cluster",
        "internalTrafficPolicy": spec.get("internalTrafficPolicy") or "Cluster",
    }
    timeout = ((spec.get("sessionAffinityConfig") or {}).get("clientIP") or {}).get(
        "timeoutSeconds"
    )
    if service_spec["sessionAffinity"] == "ClientIP" and timeout:
        service_spec["sessionAffinityConfig"] = {"clientIP": {"timeoutSeconds": timeout}}
    key = Key("Service", meta["namespace"], meta["name"])
    return _desired(key, labels_of(obj), service_spec, source_ref("Service", "v1", obj))


def network_policy(obj: dict[str, Any]) -> Desired:
    meta = metadata(obj)
    key = Key("NetworkPolicy", meta["namespace"], meta["name"])
    spec = drop_none(obj.get("spec") or {})
    source = source_ref("NetworkPolicy", "networking.k8s.io/v1", obj)
    return _desired(key, labels_of(obj), spec, source)
