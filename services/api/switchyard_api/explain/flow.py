"""Explain one flow from the compiled configuration of the nodes it crosses.

Order (VPP 26.10 with the cnat feature on every managed interface, see notes on cnat):
1. the node where the flow enters VPP (the source pod's node, the node owning the source
   address, or the given node) looks up a cnat translation for (protocol, address, port):
   cnat-input runs before the input ACL, so every ACL below sees the backend's address;
2. per chosen backend, the checkpoints in path order: the source pod interface's input ACL,
   the uplinks' ACLs when the flow crosses nodes, the destination pod interface's output ACL
   (which runs before cnat-output, so it still sees the untranslated source);
3. the reply through the same interfaces in reverse (reflect sessions let it through).
"""

from __future__ import annotations

from switchyard_contract.nodeconfig import ServiceFrontend, SnatConfig

from ..compiler.backends import READY, SERVING_TERMINATING, endpoint_state
from ..compiler.engine import Compiler
from ..compiler.policy.model import PROTOCOL_NUMBERS
from ..errors import invalid
from .acl_walk import Checkpoint, Packet, Sessions, check
from .model import BackendView, Endpoint, Explanation, PathView, Translation
from .request import FlowRequest
from .topology import Host, Topology, family


def explain_flow(compiler: Compiler, request: FlowRequest) -> Explanation:
    topology = Topology(compiler)
    protocol, port = request.protocol, request.destination_port()
    sources = _sources(topology, request)
    targets, described = _destinations(topology, request)
    source, address = _pair(sources, targets)
    entry = _entry_node(topology, request, source, address)
    frontend = _frontend(topology, entry, protocol, address, port)
    translation: Translation | None = None
    reason: str | None = None
    if frontend is not None and entry is not None:
        translation = _translation(topology, entry, frontend)
        chosen = [(b.address, b.port) for b in frontend.backends if b.weight > 0]
    else:
        owner = _service_of(topology, request, address, port, entry)
        if owner is not None:
            reason = _no_translation(topology, owner, entry)
            chosen = []
        else:
            chosen = [(address, port)]
    paths = [
        _path(topology, source, target, request, translated=translation is not None)
        for target in chosen
    ]
    return Explanation(
        source=_endpoint(source),
        destination=described,
        protocol=protocol,
        port=port,
        entryNode=entry,
        translation=translation,
        noTranslation=reason,
        verdict="allowed" if any(p.verdict == "allowed" for p in paths) else "denied",
        paths=paths,
    )


# -- resolving the request against the compiled state -----------------------------------------


def _sources(topology: Topology, request: FlowRequest) -> list[Host]:
    given = request.from_
    if given.pod is not None:
        pod = topology.pod(given.pod)
        if pod is None:
            raise invalid("from.pod", f"no pod {given.pod}")
        if not pod.ips:
            raise invalid("from.pod", f"pod {given.pod} has no address")
        return [topology.pod_host(pod, ip) for ip in pod.ips]
    assert given.ip is not None
    return [topology.host_at(given.ip)]


def _destinations(topology: Topology, request: FlowRequest) -> tuple[list[str], str]:
    to = request.to
    if to.pod is not None:
        pod = topology.pod(to.pod)
        if pod is None:
            raise invalid("to.pod", f"no pod {to.pod}")
        if not pod.ips:
            raise invalid("to.pod", f"pod {to.pod} has no address")
        return list(pod.ips), f"pod {to.pod}"
    if to.service is not None:
        namespace, _, name = to.service.partition("/")
        service = topology.core.index.services.get((namespace, name))
        if service is None:
            raise invalid("to.service", f"no service {to.service}")
        port = request.destination_port()
        if not any(p.port == port and p.protocol == request.protocol for p in service.spec.ports):
            raise invalid("to.port", f"service {to.service} has no {request.protocol} port {port}")
        if not service.spec.clusterIPs:
            raise invalid("to.service", f"service {to.service} has no cluster IP")
        return list(service.spec.clusterIPs), f"service {to.service}"
    assert to.ip is not None
    return [to.ip], to.ip


def _pair(sources: list[Host], targets: list[str]) -> tuple[Host, str]:
    for source in sorted(sources, key=lambda h: family(h.ip)):
        for target in targets:
            if family(target) == family(source.ip):
                return source, target
    raise invalid("to", "no address of the same IP family as the source")


def _entry_node(topology: Topology, request: FlowRequest, source: Host, dst: str) -> str | None:
    if source.node is not None:
        return source.node
    given = request.from_.node
    if given is not None:
        if given not in topology.compiler.nodes:
            raise invalid("from.node", f"no node {given}")
        return given
    if request.to.service is not None:
        raise invalid(
            "from.node",
            "required for a source outside the cluster and a service: the node whose "
            "uplink the flow enters",
        )
    return topology.host_at(dst).node


def _frontend(
    topology: Topology, entry: str | None, protocol: str, address: str, port: int
) -> ServiceFrontend | None:
    if entry is None:
        return None
    found = topology.object_at(entry, f"frontend/{protocol}/{address}/{port}")
    return found if isinstance(found, ServiceFrontend) else None


def _translation(topology: Topology, entry: str, frontend: ServiceFrontend) -> Translation:
    backends = []
    for backend in frontend.backends:
        host = topology.host_at(backend.address)
        backends.append(
            BackendView(
                address=backend.address,
                port=backend.port,
                weight=backend.weight,
                chosen=backend.weight > 0,
                node=host.node,
                pod=host.pod,
            )
        )
    timeout = frontend.affinity_timeout
    return Translation(
        node=entry,
        key=frontend.key,
        kind=frontend.kind,
        service=frontend.service,
        address=frontend.address,
        protocol=frontend.protocol,
        port=frontend.port,
        affinity=f"ClientIP ({timeout} s)" if timeout else "None",
        localOnly=frontend.local_only,
        backends=backends,
    )


def _service_of(
    topology: Topology, request: FlowRequest, address: str, port: int, entry: str | None
) -> tuple[str, str] | None:
    """The service behind a destination that got no translation, and which traffic policy
    applies to it ("internal" for a cluster IP, "external" otherwise)."""
    if request.to.service is not None:
        return request.to.service, "internal"
    core = topology.core
    owner = core.service_at(request.protocol, address, port)
    if owner is not None:
        service = core.index.services.get(owner)
        internal = service is not None and address in service.spec.clusterIPs
        return f"{owner[0]}/{owner[1]}", "internal" if internal else "external"
    if entry is not None and topology.node_with_address(address) == entry:
        owner = core.service_at(request.protocol, "", port)
        if owner is not None:
            return f"{owner[0]}/{owner[1]}", "external"
    return None


def _no_translation(topology: Topology, owner: tuple[str, str], entry: str | None) -> str:
    service, which = owner
    namespace, _, name = service.partition("/")
    index = topology.core.index
    found = index.services.get((namespace, name))
    if found is not None:
        spec = found.spec
        policy = spec.internalTrafficPolicy if which == "internal" else spec.externalTrafficPolicy
        slice_ = index.slices.get((namespace, name))
        serving = slice_ is not None and any(
            endpoint_state(e) in (READY, SERVING_TERMINATING) for e in slice_.spec.endpoints
        )
        if policy == "Local" and serving:
            return (
                f"no translation on node {entry}: {which}TrafficPolicy Local and no serving "
                f"endpoint of {service} on that node"
            )
    return f"no translation: no serving endpoints of {service}"


def _endpoint(host: Host) -> Endpoint:
    return Endpoint(ip=host.ip, pod=host.pod, node=host.node, interface=host.interface)


# -- one path -------------------------------------------------------------------------------------


def _path(
    topology: Topology,
    source: Host,
    target: tuple[str, int],
    request: FlowRequest,
    *,
    translated: bool,
) -> PathView:
    address, port = target
    destination = topology.host_at(address)
    proto = PROTOCOL_NUMBERS[request.protocol]
    sport = request.sourcePort
    if source.is_pod and source.ip == destination.ip and not translated:
        return PathView(
            destination=_endpoint(destination),
            port=port,
            verdict="allowed",
            steps=[],
            reply=[],
            note="the pod's own address: its kernel loops the packet back, VPP never sees it",
        )
    src_ip, note = source.ip, ""
    if source.is_pod and source.ip == destination.ip and source.node is not None:
        src_ip = _snat_address(topology, source.node, family(source.ip)) or source.ip
        note = f"hairpin: cnat source-NATs a pod reaching itself to the node address {src_ip}"
    if proto not in (6, 17):  # VPP's ACL plugin reads L4 ports of TCP and UDP only
        sport = port_seen = 0
    else:
        port_seen = port
    forward: Packet = (src_ip, destination.ip, proto, sport, port_seen)
    reply: Packet = (destination.ip, src_ip, proto, port_seen, sport)
    hops = _checkpoints(topology, source, destination)
    sessions = Sessions()
    steps = []
    for hop in hops:
        steps.append(check(topology.objects(hop.node), hop, forward, sessions))
        if not steps[-1].passed:
            break
    back = []
    if all(s.passed for s in steps):
        for hop in reversed(hops):
            turned = Checkpoint(
                hop.node,
                hop.interface,
                "out" if hop.direction == "in" else "in",
                hop.pod,
                hop.provenance,
            )
            back.append(check(topology.objects(hop.node), turned, reply, sessions))
            if not back[-1].passed:
                break
    allowed = all(s.passed for s in steps) and all(s.passed for s in back)
    return PathView(
        destination=_endpoint(destination),
        port=port,
        verdict="allowed" if allowed else "denied",
        steps=steps,
        reply=back,
        note=note,
    )


def _checkpoints(topology: Topology, src: Host, dst: Host) -> list[Checkpoint]:
    hops: list[Checkpoint] = []
    if src.is_pod and src.node is not None and src.interface is not None:
        hops.append(Checkpoint(src.node, src.interface, "in", src.pod, topology.provenance(src)))
    if src.node is None or dst.node is None or src.node != dst.node:
        if src.node is not None and topology.uplink(src.node):
            hops.append(Checkpoint(src.node, topology.uplink(src.node), "out"))
        if dst.node is not None and topology.uplink(dst.node):
            hops.append(Checkpoint(dst.node, topology.uplink(dst.node), "in"))
    if dst.is_pod and dst.node is not None and dst.interface is not None:
        hops.append(Checkpoint(dst.node, dst.interface, "out", dst.pod, topology.provenance(dst)))
    return hops


def _snat_address(topology: Topology, node: str, fam: int) -> str | None:
    snat = topology.object_at(node, "snat")
    if isinstance(snat, SnatConfig):
        return snat.snat_ip4 if fam == 4 else snat.snat_ip6
    return None
