"""A Service's EndpointSlices, merged into the one endpoints document Switchyard holds.

The cluster's slices are authoritative for readiness and terminating; the Service itself is
mirrored without its selector, so Switchyard never computes these endpoints a second time.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from .mapping import canonical_ip, labels_of, metadata, source_ref
from .objects import SOURCE_ANNOTATION, Desired, Key

SERVICE_NAME_LABEL = "kubernetes.io/service-name"
FAMILIES = {"IPv4": 4, "IPv6": 6}


def service_of(slice_obj: dict[str, Any]) -> tuple[str, str] | None:
    """(namespace, service name) a slice belongs to, None for a slice of no service."""
    name = labels_of(slice_obj).get(SERVICE_NAME_LABEL)
    if not name:
        return None
    return metadata(slice_obj).get("namespace", ""), name


def _conditions(raw: dict[str, Any]) -> dict[str, Any]:
    # Kubernetes: an unknown (null) ready is to be read as ready; terminating defaults to false.
    conditions: dict[str, Any] = {
        "ready": raw.get("ready") is not False,
        "terminating": bool(raw.get("terminating")),
    }
    if raw.get("serving") is not None:
        conditions["serving"] = bool(raw["serving"])
    return conditions


def _endpoint(raw: dict[str, Any], namespace: str) -> dict[str, Any] | None:
    addresses = [canonical_ip(str(a)) for a in raw.get("addresses") or []]
    if not addresses:
        return None
    # Kubernetes: consumers use the first address of an endpoint only.
    endpoint: dict[str, Any] = {
        "addresses": addresses[:1],
        "conditions": _conditions(raw.get("conditions") or {}),
    }
    if raw.get("nodeName"):
        endpoint["nodeName"] = raw["nodeName"]
    ref = raw.get("targetRef") or {}
    if ref.get("kind") == "Pod" and ref.get("name"):
        endpoint["targetRef"] = {
            "kind": "Pod",
            "namespace": ref.get("namespace") or namespace,
            "name": ref["name"],
        }
    if raw.get("zone"):
        endpoint["zone"] = raw["zone"]
    return endpoint


def _family(address: str) -> int:
    try:
        return ipaddress.ip_address(address).version
    except ValueError:
        return 0


def _merge_dual_stack(endpoints: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One endpoint per pod with an address of each family (Switchyard's DualStack type)."""
    by_pod: dict[tuple[str, str], dict[str, Any]] = {}
    merged: list[dict[str, Any]] = []
    for endpoint in endpoints:
        ref = endpoint.get("targetRef")
        if ref is None:
            merged.append(endpoint)
            continue
        pod_key = (ref["namespace"], ref["name"])
        first = by_pod.get(pod_key)
        families = {_family(a) for a in (first or {}).get("addresses", [])}
        if first is not None and _family(endpoint["addresses"][0]) not in families:
            first["addresses"] = sorted(first["addresses"] + endpoint["addresses"], key=_family)
            continue
        by_pod[pod_key] = endpoint
        merged.append(endpoint)
    return merged


def merge(namespace: str, name: str, slices: list[dict[str, Any]]) -> Desired:
    """The endpoints of Service namespace/name from all its slices (in name order)."""
    slices = sorted(slices, key=lambda s: str(metadata(s).get("name", "")))
    families = {s.get("addressType") for s in slices if s.get("addressType") in FAMILIES}
    endpoints: list[dict[str, Any]] = []
    seen: set[str] = set()
    ports: list[dict[str, Any]] = []
    port_names: set[str | None] = set()
    for slice_obj in slices:
        if slice_obj.get("addressType") not in FAMILIES:
            continue  # FQDN slices carry no addresses Switchyard could program
        for raw in slice_obj.get("endpoints") or []:
            endpoint = _endpoint(raw, namespace)
            # The same address may sit in two slices for a moment while one is rebalanced.
            if endpoint is None or endpoint["addresses"][0] in seen:
                continue
            seen.add(endpoint["addresses"][0])
            endpoints.append(endpoint)
        for raw_port in slice_obj.get("ports") or []:
            port_name = raw_port.get("name") or None
            if raw_port.get("port") is None or port_name in port_names:
                continue
            port_names.add(port_name)
            port: dict[str, Any] = {
                "port": raw_port["port"],
                "protocol": raw_port.get("protocol") or "TCP",
            }
            if port_name:
                port["name"] = port_name
            ports.append(port)
    if len(families) > 1:
        address_type = "DualStack"
        endpoints = _merge_dual_stack(endpoints)
    else:
        address_type = str(next(iter(families), None) or "IPv4")
    spec = {"addressType": address_type, "endpoints": endpoints, "ports": ports}
    source = {"kind": "Service", "apiVersion": "v1", "name": name, "namespace": namespace}
    names = ",".join(str(metadata(s).get("name")) for s in slices)
    annotations = {SOURCE_ANNOTATION: f"EndpointSlice {namespace}/{names}"}
    return Desired(Key("EndpointSlice", namespace, name), {}, spec, source, annotations)


def slice_source(slice_obj: dict[str, Any]) -> dict[str, Any]:
    return source_ref("EndpointSlice", "discovery.k8s.io/v1", slice_obj)
