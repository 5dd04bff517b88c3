"""Endpoints of Services with a selector, maintained like Kubernetes' EndpointSlice controller.

`sync_after_write` is called by the write path inside the write transaction, after a Pod or a
Service changed; the endpoints it rewrites share that write's revision, so the change log, the
event stream and the incremental compiler see one change. Named target ports are not resolved
here: every endpoint carries `targetRef` to its pod and the compiler resolves a named port
through that pod's own ports (a pod without the name is left out of that port).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import conflict
from .representation import spec_to_storage
from .resources.endpoints import EndpointsSpec
from .resources.registry import ENDPOINTS, POD, SERVICE
from .store.models import StoredObject
from .store.transaction import WriteTransaction

SERVICE_NAME_LABEL = "kubernetes.io/service-name"
MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by"
MANAGED_BY = "endpoint-controller.switchyard.io"


def selector_of(service_spec: Mapping[str, Any]) -> dict[str, str]:
    selector = service_spec.get("selector") or {}
    return dict(selector)


def matches(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def pod_is_ready(pod: StoredObject) -> bool:
    """The pod's Ready condition; a pod that reports none counts as ready."""
    for condition in (pod.status or {}).get("conditions", []):
        if condition.get("type") == "Ready":
            return bool(condition.get("status") == "True")
    return True


def refuse_manual_write(tx: WriteTransaction, namespace: str, service: str) -> None:
    """409 for a write to the endpoints of a selector Service: they are Switchyard's."""
    row = tx.get(SERVICE.kind, namespace, service)
    selector = selector_of(row.spec) if row is not None else {}
    if selector:
        wanted = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
        who = f"Service {namespace}/{service}"
        raise conflict(
            f"the endpoints of {who} are maintained from its selector {wanted}; "
            "they are read-only (remove the selector to manage them by hand)",
            owner=who,
        )


def sync_after_write(tx: WriteTransaction, kind: str, namespace: str, name: str) -> None:
    if kind == SERVICE.kind:
        service = tx.get(SERVICE.kind, namespace, name)
        if service is not None:
            _sync_service(tx, service)
    elif kind == POD.kind:
        pod = tx.get(POD.kind, namespace, name)
        for service in tx.rows_of_kind(SERVICE.kind, namespace):
            selector = selector_of(service.spec)
            if not selector:
                continue
            current = tx.get(ENDPOINTS.kind, namespace, service.name)
            listed = current is not None and any(
                (e.get("targetRef") or {}).get("name") == name
                for e in current.spec.get("endpoints", [])
            )
            if listed or (pod is not None and matches(selector, pod.labels)):
                _sync_one_pod(tx, service, current, name, pod)


def _sync_service(tx: WriteTransaction, service: StoredObject) -> None:
    current = tx.get(ENDPOINTS.kind, service.namespace, service.name)
    selector = selector_of(service.spec)
    if not selector:
        if current is not None and current.labels.get(MANAGED_BY_LABEL) == MANAGED_BY:
            tx.delete(current)  # the selector was removed: the endpoints are the user's now
        return
    pods = [
        pod for pod in tx.rows_of_kind(POD.kind, service.namespace) if matches(selector, pod.labels)
    ]
    families = _families(service.spec)
    endpoints = [e for e in (_endpoint(pod, families) for pod in pods) if e is not None]
    _store(tx, service, current, endpoints)


def _sync_one_pod(
    tx: WriteTransaction,
    service: StoredObject,
    current: StoredObject | None,
    pod_name: str,
    pod: StoredObject | None,
) -> None:
    kept = [
        e
        for e in (current.spec.get("endpoints", []) if current is not None else [])
        if (e.get("targetRef") or {}).get("name") != pod_name
    ]
    if pod is not None and matches(selector_of(service.spec), pod.labels):
        endpoint = _endpoint(pod, _families(service.spec))
        if endpoint is not None:
            kept.append(endpoint)
    _store(tx, service, current, kept)


def _families(service_spec: Mapping[str, Any]) -> list[int]:
    return [4 if f == "IPv4" else 6 for f in service_spec.get("ipFamilies", [])] or [4]


def _endpoint(pod: StoredObject, families: list[int]) -> dict[str, Any] | None:
    """One endpoint per pod: its addresses of the service's families, node, readiness."""
    by_family = {(6 if ":" in ip else 4): ip for ip in pod.spec.get("podIPs", [])}
    addresses = [by_family[f] for f in families if f in by_family]
    if not addresses:
        return None
    ready = pod_is_ready(pod)
    return {
        "addresses": addresses,
        "conditions": {"ready": ready, "serving": ready, "terminating": False},
        "nodeName": pod.spec.get("nodeName"),
        "targetRef": {"kind": "Pod", "namespace": pod.namespace, "name": pod.name},
    }


def _store(
    tx: WriteTransaction,
    service: StoredObject,
    current: StoredObject | None,
    endpoints: list[dict[str, Any]],
) -> None:
    families = _families(service.spec)
    address_type = "DualStack" if len(families) == 2 else f"IPv{families[0]}"
    endpoints = sorted(endpoints, key=lambda e: e["targetRef"]["name"])
    seen: set[str] = set()
    unique: list[dict[str, Any]] = []
    for endpoint in endpoints:  # two pods claiming one IP: the first (by name) keeps it
        if seen.isdisjoint(endpoint["addresses"]):
            seen.update(endpoint["addresses"])
            unique.append(endpoint)
    spec = EndpointsSpec.model_validate(
        {"addressType": address_type, "endpoints": unique, "ports": _ports(service.spec)}
    )
    stored = spec_to_storage(spec)
    labels = {SERVICE_NAME_LABEL: service.name, MANAGED_BY_LABEL: MANAGED_BY}
    if current is not None and current.spec == stored and current.labels == labels:
        return
    tx.put(
        ENDPOINTS.kind, service.namespace, service.name, labels=labels, annotations={}, spec=stored
    )


def _ports(service_spec: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Ports whose target does not depend on the pod; named ones resolve per pod."""
    out: list[dict[str, Any]] = []
    for port in service_spec.get("ports", []):
        target = port.get("targetPort")
        if isinstance(target, str):
            continue
        entry: dict[str, Any] = {"port": target or port["port"], "protocol": port["protocol"]}
        if port.get("name"):
            entry["name"] = port["name"]
        out.append(entry)
    return out
