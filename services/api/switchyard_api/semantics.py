"""Rules that span objects, checked inside the write transaction: references, uniqueness claims,
nodePort allocation and cascading deletes."""

from __future__ import annotations

from typing import Any

from .cluster_ips import cluster_ip_claims
from .errors import conflict, invalid, not_found
from .resources.common import StrictModel
from .resources.load_balancer import LoadBalancerSpec
from .resources.registry import ENDPOINTS, LOAD_BALANCER, NAMESPACE, SERVICE, KindInfo
from .resources.service import ServiceSpec
from .store.models import StoredObject
from .store.transaction import WriteTransaction

NODE_PORT_CLAIM = "nodeport/"


def owner_name(kind: str, namespace: str, name: str) -> str:
    return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"


def check_references(
    tx: WriteTransaction, info: KindInfo, namespace: str, spec: StrictModel
) -> None:
    if info.namespaced and not tx.exists(NAMESPACE.kind, "", namespace):
        raise invalid("metadata.namespace", f"namespace {namespace!r} does not exist")
    if info is ENDPOINTS:
        return
    if isinstance(spec, LoadBalancerSpec) and spec.backends.service is not None:
        ref = spec.backends.service
        if not tx.exists(NAMESPACE.kind, "", ref.namespace):
            raise invalid(
                "spec.backends.service.namespace", f"namespace {ref.namespace!r} does not exist"
            )


def require_service(tx: WriteTransaction, namespace: str, name: str) -> None:
    if not tx.exists(SERVICE.kind, namespace, name):
        raise not_found(f"service {namespace}/{name}")


def allocate_node_ports(
    tx: WriteTransaction,
    spec: ServiceSpec,
    previous: dict[str, Any] | None,
    node_port_range: tuple[int, int],
) -> None:
    """Check given nodePorts against the range; fill missing ones, keeping earlier allocations
    of the same port (as Kubernetes does on update)."""
    first, last = node_port_range
    for index, port in enumerate(spec.ports):
        if port.nodePort is not None and not first <= port.nodePort <= last:
            raise invalid(
                f"spec.ports[{index}].nodePort",
                f"{port.nodePort} is outside the node port range {first}-{last}",
            )
    if spec.type == "ClusterIP":
        return
    earlier: dict[tuple[Any, ...], int] = {}
    for old in (previous or {}).get("ports", []):
        if old.get("nodePort"):
            earlier[(old.get("name"), old["port"], old.get("protocol", "TCP"))] = old["nodePort"]
    used = {int(claim.split("/")[1]) for claim in tx.claims_with_prefix(NODE_PORT_CLAIM)}
    used |= {p.nodePort for p in spec.ports if p.nodePort}
    for index, port in enumerate(spec.ports):
        if port.nodePort is not None:
            continue
        kept = earlier.get((port.name, port.port, port.protocol))
        if kept is not None and kept not in {p.nodePort for p in spec.ports}:
            port.nodePort = kept
            continue
        free = next((n for n in range(first, last + 1) if n not in used), None)
        if free is None:
            raise conflict(
                f"spec.ports[{index}].nodePort: no free node port left in {first}-{last}",
                owner="",
            )
        port.nodePort = free
        used.add(free)


# The kinds that claim anything (claims_of): every other kind's writes skip the claims table.
CLAIMING_KINDS = (SERVICE, LOAD_BALANCER)


def claims_of(info: KindInfo, spec: StrictModel) -> list[tuple[str, str]]:
    """(claim, what it means for a human) pairs that must be unique across objects."""
    claims: list[tuple[str, str]] = []
    if isinstance(spec, ServiceSpec):
        claims.extend(cluster_ip_claims(spec))
        addresses = [*spec.clusterIPs, *spec.externalIPs, *spec.loadBalancerIPs]
        for port in spec.ports:
            for address in addresses:
                claims.append(
                    (
                        f"addr/{address}/{port.port}/{port.protocol}",
                        f"{address} port {port.port}/{port.protocol}",
                    )
                )
            if port.nodePort:
                claims.append(
                    (
                        f"{NODE_PORT_CLAIM}{port.nodePort}/{port.protocol}",
                        f"nodePort {port.nodePort}/{port.protocol}",
                    )
                )
    elif isinstance(spec, LoadBalancerSpec):
        claims.append(
            (
                f"vip/{spec.vip}/{spec.protocol}/{spec.port}",
                f"VIP {spec.vip} port {spec.port}/{spec.protocol}",
            )
        )
    return claims


def take_claims(
    tx: WriteTransaction, info: KindInfo, namespace: str, name: str, spec: StrictModel
) -> None:
    if info not in CLAIMING_KINDS:
        return  # nothing to check and nothing held: no claims query, no DELETE
    claims = claims_of(info, spec)
    owners = tx.claim_owners(c for c, _ in claims)
    for claim, meaning in claims:
        owner = owners.get(claim)
        if owner is not None and (owner.kind, owner.namespace, owner.name) != (
            info.kind,
            namespace,
            name,
        ):
            who = owner_name(owner.kind, owner.namespace, owner.name)
            raise conflict(f"{meaning} is already claimed by {who}", owner=who)
    if isinstance(spec, LoadBalancerSpec):
        _check_vip_overlap(tx, namespace, name, spec)
    tx.set_claims(info.kind, namespace, name, (c for c, _ in claims))


def _check_vip_overlap(
    tx: WriteTransaction, namespace: str, name: str, spec: LoadBalancerSpec
) -> None:
    """A protocol-Any VIP takes every port of its prefix."""
    prefix = f"vip/{spec.vip}/"
    others = [c for c in tx.claims_with_prefix(prefix)]
    clashing = [c for c in others if spec.protocol == "Any" or c.startswith(f"{prefix}Any/")]
    owners = tx.claim_owners(clashing)
    for claim, owner in owners.items():
        if (owner.kind, owner.namespace, owner.name) != (LOAD_BALANCER.kind, namespace, name):
            who = owner_name(owner.kind, owner.namespace, owner.name)
            raise conflict(
                f"VIP {spec.vip} overlaps {claim.removeprefix('vip/')} claimed by {who}",
                owner=who,
            )


def cascade_delete(tx: WriteTransaction, row: StoredObject) -> None:
    """Deleting a namespace deletes what it holds; deleting a service deletes its endpoints."""
    if row.kind == NAMESPACE.kind:
        for child in tx.rows_in_namespace(row.name):
            tx.delete(child)
    elif row.kind == SERVICE.kind:
        endpoints = tx.get(ENDPOINTS.kind, row.namespace, row.name)
        if endpoints is not None:
            tx.delete(endpoints)
