"""Which endpoints of a service serve a frontend, on which port, with which weight.

Selection (Kubernetes KEP-1669 plus graceful drain), among the endpoints in scope (all, or
those on one node for a Local traffic policy) that have an address of the frontend's family
and a resolvable port:
- ready (and not terminating) endpoints get weight 1;
- if none is ready, serving-but-terminating endpoints get weight 1 (KEP-1669 fallback);
- every other terminating endpoint stays with weight 0 (drain: no new flows, existing flows
  kept) until it leaves the EndpointSlice;
- not-ready, non-terminating endpoints are left out.
A set without any weight > 0 backend yields no backends at all, so no frontend: every backend
would be draining and the service proxy must never get a translation without a live path.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from switchyard_contract.nodeconfig import Backend

from ..resources.endpoints import Endpoint
from ..resources.service import ServicePort
from .index import ClusterIndex, NsName, Service, Slice

PodPorts = dict[tuple[str | None, str], int]  # (port name, protocol) -> containerPort

READY = 0
SERVING_TERMINATING = 1
TERMINATING = 2
NOT_READY = 3


@dataclass(frozen=True, slots=True)
class ResolvedEndpoint:
    v4: str | None
    v6: str | None
    node: str
    state: int
    ports: tuple[int | None, ...]  # per service port (same order); None: unresolvable

    def address(self, family: int) -> str | None:
        return self.v4 if family == 4 else self.v6


def endpoint_state(endpoint: Endpoint) -> int:
    cond = endpoint.conditions
    if cond.terminating:
        return SERVING_TERMINATING if cond.is_serving() else TERMINATING
    return READY if cond.ready else NOT_READY


def _target_port(port: ServicePort, pod_ports: PodPorts | None, slice_: Slice) -> int | None:
    target = port.targetPort
    if target is None:
        return port.port
    if isinstance(target, int):
        return target
    if pod_ports is not None:
        found = pod_ports.get((target, port.protocol))
        if found is not None:
            return found
    # Fallback: the EndpointSlice port named like the service port (Kubernetes' own shape).
    for slice_port in slice_.spec.ports:
        if slice_port.name == port.name and slice_port.protocol == port.protocol:
            return slice_port.port
    return None


def resolve(index: ClusterIndex, service: Service, slice_: Slice) -> list[ResolvedEndpoint]:
    ports = service.spec.ports
    named = any(isinstance(p.targetPort, str) for p in ports)
    out: list[ResolvedEndpoint] = []
    for endpoint in slice_.spec.endpoints:
        pod = None
        if endpoint.targetRef is not None:
            pod_key: NsName = (
                endpoint.targetRef.namespace or slice_.namespace,
                endpoint.targetRef.name,
            )
            pod = index.pods.get(pod_key)
        node = endpoint.nodeName or (pod.spec.nodeName if pod is not None else "")
        pod_ports: PodPorts | None = None
        if named and pod is not None:
            pod_ports = {(p.name, p.protocol): p.containerPort for p in pod.spec.ports if p.name}
        v4 = v6 = None
        for address in endpoint.addresses:
            if ":" in address:
                v6 = address
            else:
                v4 = address
        out.append(
            ResolvedEndpoint(
                v4,
                v6,
                node,
                endpoint_state(endpoint),
                tuple(_target_port(p, pod_ports, slice_) for p in ports),
            )
        )
    return out


def select(
    endpoints: Iterable[ResolvedEndpoint], port_index: int | None, family: int
) -> tuple[Backend, ...]:
    """Backends for one frontend, sorted; () when none would take new flows. With port_index
    None the port is ignored (reported as 0), for direct server return."""
    live: list[Backend] = []
    fallback: list[Backend] = []
    draining: list[Backend] = []
    for endpoint in endpoints:
        address = endpoint.address(family)
        port = 0 if port_index is None else endpoint.ports[port_index]
        if address is None or port is None:
            continue
        if endpoint.state == READY:
            live.append(Backend(address, port, 1))
        elif endpoint.state == SERVING_TERMINATING:
            fallback.append(Backend(address, port, 1))
            draining.append(Backend(address, port, 0))
        elif endpoint.state == TERMINATING:
            draining.append(Backend(address, port, 0))
    if live:
        chosen = live + draining
    elif fallback:
        serving = {(b.address, b.port) for b in fallback}
        chosen = fallback + [b for b in draining if (b.address, b.port) not in serving]
    else:
        return ()
    # Plain string order: deterministic and cheap (no address parsing per backend).
    return tuple(sorted(chosen, key=lambda b: (b.address, b.port)))


def has_ready(endpoints: Iterable[ResolvedEndpoint], family: int) -> bool:
    return any(e.state == READY and e.address(family) is not None for e in endpoints)
