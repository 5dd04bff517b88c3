"""Incremental equals full: after any sequence of changes, the incrementally maintained
configs equal a from-scratch compile, and the drained deltas replayed on the previous configs
reproduce them."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from switchyard_api.compiler.engine import Compiler, compile_full
from switchyard_api.compiler.part import IntentChange
from switchyard_api.resources.intent import IntentObject, ObjectRef
from switchyard_contract.nodeconfig import NodeDelta, NodeObject, ServiceFrontend

from .factories import (
    endpoint,
    make_bgp_peer,
    make_endpoints,
    make_load_balancer,
    make_namespace,
    make_network_policy,
    make_node,
    make_pod,
    make_service,
)

NODES = ["n1", "n2", "n3"]
PODS = [("default", "p1"), ("default", "p2"), ("other", "p3"), ("default", "p4")]
SERVICES = [("default", "s1"), ("default", "s2"), ("other", "s3")]
LABELS = st.dictionaries(st.sampled_from(["app", "role"]), st.sampled_from(["a", "b"]), max_size=2)
SELECTOR = st.one_of(
    st.just({}),
    st.builds(
        lambda k, v: {"matchLabels": {k: v}},
        st.sampled_from(["app", "role"]),
        st.sampled_from(["a", "b"]),
    ),
)


def _pod_ips(index: int) -> list[str]:
    return [f"10.244.0.{index + 1}", f"fd00:244::{index + 1}"]


@st.composite
def nodes(draw: st.DrawFn) -> IntentObject[Any]:
    i = draw(st.integers(0, len(NODES) - 1))
    addresses = draw(
        st.sampled_from(
            [[f"10.0.0.{i + 1}"], [f"10.0.0.{i + 1}", f"fd00::{i + 1}"], [f"fd00::{i + 1}"]]
        )
    )
    cidrs = draw(
        st.sampled_from(
            [
                [],
                [f"10.244.{i}.0/24"],
                [f"10.244.{i}.0/24", f"fd00:244:{i}::/64"],
                ["10.244.9.0/24"],
            ]
        )
    )
    bgp = draw(st.sampled_from([None, {"asn": 65001 + i, "routerId": f"10.0.0.{i + 1}"}]))
    lb = draw(st.sampled_from([{}, {"ip4SourceAddress": f"192.0.2.{i + 1}"}]))
    return make_node(
        NODES[i],
        addresses,
        cidrs,
        draw(LABELS),
        bgp,
        draw(st.sampled_from(["", "eth0"])),
        loadBalancer=lb,
    )


@st.composite
def pods(draw: st.DrawFn) -> IntentObject[Any]:
    i = draw(st.integers(0, len(PODS) - 1))
    ns, name = PODS[i]
    ports = draw(
        st.sampled_from(
            [
                [],
                [{"name": "http", "containerPort": 8080}],
                [
                    {"name": "http", "containerPort": 9090},
                    {"name": "dns", "containerPort": 53, "protocol": "UDP"},
                ],
            ]
        )
    )
    return make_pod(
        name,
        draw(st.sampled_from([*NODES, "ghost"])),
        draw(st.sampled_from([_pod_ips(i)[:1], _pod_ips(i)])),
        namespace=ns,
        labels=draw(LABELS),
        interface=draw(st.sampled_from(["", f"memif{i}", "memif0"])),
        ports=ports,
    )


@st.composite
def services(draw: st.DrawFn) -> IntentObject[Any]:
    ns, name = draw(st.sampled_from(SERVICES))
    kind = draw(st.sampled_from(["ClusterIP", "NodePort", "LoadBalancer"]))
    cluster_ips = draw(
        st.sampled_from([["10.96.0.1"], ["10.96.0.2"], ["10.96.0.3", "fd00:96::3"], ["fd00:96::4"]])
    )
    target = draw(st.sampled_from([None, 8080, "http"]))
    port: dict[str, Any] = {"name": "web", "port": 80, "targetPort": target}
    ports = [port]
    if draw(st.booleans()):
        ports.append({"name": "dns", "port": 53, "protocol": "UDP", "targetPort": "dns"})
    if kind != "ClusterIP":
        for p, node_port in zip(
            ports, draw(st.sampled_from([(30080, 30053), (30081, 30054)])), strict=False
        ):
            p["nodePort"] = node_port
    extra: dict[str, Any] = {
        "externalIPs": draw(st.sampled_from([[], ["198.51.100.1"], ["2001:db8::1"]])),
        "internalTrafficPolicy": draw(st.sampled_from(["Cluster", "Local"])),
    }
    if kind != "ClusterIP":
        extra["externalTrafficPolicy"] = draw(st.sampled_from(["Cluster", "Local"]))
    if kind == "LoadBalancer":
        extra["loadBalancerIPs"] = draw(st.sampled_from([[], ["203.0.113.10"], ["198.51.100.2"]]))
    if draw(st.booleans()):
        extra["sessionAffinity"] = "ClientIP"
    return make_service(name, cluster_ips, ports, namespace=ns, type=kind, **extra)


@st.composite
def slices(draw: st.DrawFn) -> IntentObject[Any]:
    ns, name = draw(st.sampled_from(SERVICES))
    entries = []
    for i in draw(st.lists(st.integers(0, len(PODS) - 1), unique=True, max_size=4)):
        pod_ns, pod = PODS[i]
        ready, terminating = draw(st.sampled_from([(True, False), (False, False), (False, True)]))
        entries.append(
            endpoint(
                draw(st.sampled_from([_pod_ips(i)[:1], _pod_ips(i)])),
                node=draw(st.sampled_from([None, *NODES])),
                pod=pod if draw(st.booleans()) else None,
                ready=ready,
                serving=draw(st.sampled_from([None, True, False])),
                terminating=terminating,
                pod_namespace=pod_ns if pod_ns != ns else None,
            )
        )
    ports = draw(st.sampled_from([[], [{"name": "web", "port": 8081}]]))
    return make_endpoints(name, entries, ports, namespace=ns, address_type="DualStack")


@st.composite
def load_balancers(draw: st.DrawFn) -> IntentObject[Any]:
    name = draw(st.sampled_from(["lb1", "lb2"]))
    encap = draw(st.sampled_from(["gre4", "gre6", "l3dsr"]))
    vip = draw(st.sampled_from(["203.0.113.10/32", "203.0.113.0/28"]))
    svc = draw(st.sampled_from(SERVICES))
    service = {"namespace": svc[0], "name": svc[1]}
    if encap == "l3dsr":
        backends: dict[str, Any] = draw(
            st.sampled_from([{"service": service}, {"addresses": ["192.0.2.50"]}])
        )
        extra: dict[str, Any] = {"dscp": 10}
    else:
        backends = draw(
            st.sampled_from(
                [
                    {"nodeSelector": {}},
                    {"service": service},
                    {"nodeSelector": {"matchLabels": {"role": "a"}}, "service": service},
                ]
            )
        )
        extra = {}
    protocol, port = draw(st.sampled_from([("TCP", 80), ("Any", 0), ("UDP", 53)]))
    return make_load_balancer(
        name,
        vip,
        backends,
        draw(SELECTOR),
        protocol,
        port,
        encap,
        advertise={
            "enabled": draw(st.booleans()),
            "communities": draw(st.sampled_from([[], ["65000:1"]])),
        },
        **extra,
    )


@st.composite
def peers(draw: st.DrawFn) -> IntentObject[Any]:
    name = draw(st.sampled_from(["peer1", "peer2"]))
    return make_bgp_peer(
        name,
        draw(st.sampled_from(["10.0.0.254", "10.0.0.253"])),
        draw(st.sampled_from([65000, 65100])),
        draw(SELECTOR),
    )


@st.composite
def policies(draw: st.DrawFn) -> IntentObject[Any]:
    name = draw(st.sampled_from(["np1", "np2"]))
    ingress = draw(
        st.sampled_from(
            [
                [],
                [
                    {
                        "from": [{"podSelector": {"matchLabels": {"app": "a"}}}],
                        "ports": [{"port": "http"}],
                    }
                ],
                [{"from": [{"namespaceSelector": {"matchLabels": {"team": "x"}}}]}],
                [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.0.1.0/24"]}}]}],
            ]
        )
    )
    egress = draw(
        st.sampled_from(
            [[], [{"to": [{"podSelector": {}}], "ports": [{"port": 53, "protocol": "UDP"}]}]]
        )
    )
    return make_network_policy(
        name,
        draw(st.sampled_from(["default", "other"])),
        draw(SELECTOR),
        ingress=ingress,
        egress=egress,
    )


namespaces = st.builds(
    make_namespace,
    st.sampled_from(["default", "other"]),
    st.sampled_from([{}, {"team": "x"}]),
)
OBJECTS = st.one_of(
    nodes(), pods(), services(), slices(), load_balancers(), peers(), policies(), namespaces
)
REFS = st.one_of(
    st.builds(lambda n: ObjectRef("Node", "", n), st.sampled_from(NODES)),
    st.builds(lambda p: ObjectRef("Pod", *p), st.sampled_from(PODS)),
    st.builds(lambda s: ObjectRef("Service", *s), st.sampled_from(SERVICES)),
    st.builds(lambda s: ObjectRef("EndpointSlice", *s), st.sampled_from(SERVICES)),
    st.builds(lambda n: ObjectRef("LoadBalancer", "", n), st.sampled_from(["lb1", "lb2"])),
    st.builds(lambda n: ObjectRef("NetworkPolicy", "default", n), st.sampled_from(["np1", "np2"])),
    st.builds(lambda n: ObjectRef("Namespace", "", n), st.sampled_from(["default", "other"])),
    st.builds(lambda n: ObjectRef("BgpPeer", "", n), st.sampled_from(["peer1", "peer2"])),
)


@st.composite
def change(draw: st.DrawFn) -> IntentChange:
    if draw(st.integers(0, 4)) == 0:
        return IntentChange(draw(REFS), None)
    try:
        obj = draw(OBJECTS)
    except (ValidationError, ValueError):
        assume(False)
        raise
    return IntentChange(obj.ref, obj)


def _replay(state: dict[str, dict[str, NodeObject]], deltas: dict[str, NodeDelta]) -> None:
    for name, delta in deltas.items():
        assert delta.node == name
        assert not (delta.removals & delta.upserts.keys())
        objects = state.setdefault(name, {})
        for key in delta.removals:
            assert key in objects, f"{name}: removal of unknown key {key}"
            del objects[key]
        for key, obj in delta.upserts.items():
            assert obj.key == key
            assert objects.get(key) != obj, f"{name}: no-op upsert of {key}"
            objects[key] = obj


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(change(), min_size=1, max_size=3), min_size=1, max_size=16))
def test_incremental_equals_full(batches: list[list[IntentChange]]) -> None:
    compiler = Compiler()
    current: dict[ObjectRef, IntentObject[Any]] = {}
    state: dict[str, dict[str, NodeObject]] = {}
    for batch in batches:
        _replay(state, compiler.apply(batch))
        for item in batch:
            if item.new is None:
                current.pop(item.ref, None)
            else:
                current[item.ref] = item.new
        full = compile_full(current.values())
        assert sorted(full) == sorted(compiler.nodes)
        for name in {*state, *full}:
            expected = dict(full[name].objects) if name in full else {}
            assert dict(compiler.node_config(name).objects) == expected
            assert state.get(name, {}) == expected, name
        fresh = Compiler()
        fresh.apply(IntentChange(o.ref, o) for o in current.values())
        assert compiler.errors() == fresh.errors()
        for objects in state.values():
            for obj in objects.values():
                if isinstance(obj, ServiceFrontend):
                    assert any(b.weight > 0 for b in obj.backends)
