"""Service frontends: types x traffic policies x endpoint conditions x affinity, named ports,
dual stack."""

from __future__ import annotations

from typing import Any

import pytest

from switchyard_api.compiler.engine import Compiler, compile_full
from switchyard_api.compiler.part import IntentChange
from switchyard_contract.nodeconfig import Backend, ServiceFrontend

from .factories import endpoint, make_endpoints, make_node, make_pod, make_service

NODES = [
    make_node("n1", ["10.0.0.1", "fd00::1"]),
    make_node("n2", ["10.0.0.2", "fd00::2"]),
]


def frontends(*objects: Any) -> dict[str, dict[str, ServiceFrontend]]:
    configs = compile_full([*NODES, *objects])
    return {
        node: {k: v for k, v in cfg.objects.items() if isinstance(v, ServiceFrontend)}
        for node, cfg in configs.items()
    }


def backends(fe: ServiceFrontend) -> list[tuple[str, int, int]]:
    return [(b.address, b.port, b.weight) for b in fe.backends]


EPS = [
    endpoint("10.244.1.1", node="n1"),
    endpoint("10.244.2.1", node="n2"),
]


@pytest.mark.parametrize(
    ("svc_type", "extra", "expected"),
    [
        # ClusterIP: one frontend per clusterIP x port, identical on every node.
        (
            "ClusterIP",
            {},
            {"n1": {"frontend/TCP/10.96.0.10/80"}, "n2": {"frontend/TCP/10.96.0.10/80"}},
        ),
        (
            "ClusterIP",
            {"externalIPs": ["198.51.100.7"]},
            {
                "n1": {"frontend/TCP/10.96.0.10/80", "frontend/TCP/198.51.100.7/80"},
                "n2": {"frontend/TCP/10.96.0.10/80", "frontend/TCP/198.51.100.7/80"},
            },
        ),
        # NodePort: plus every node's own addresses x nodePort.
        (
            "NodePort",
            {},
            {
                "n1": {
                    "frontend/TCP/10.96.0.10/80",
                    "frontend/TCP/10.0.0.1/30080",
                },
                "n2": {
                    "frontend/TCP/10.96.0.10/80",
                    "frontend/TCP/10.0.0.2/30080",
                },
            },
        ),
        (
            "LoadBalancer",
            {"loadBalancerIPs": ["203.0.113.5"]},
            {
                "n1": {
                    "frontend/TCP/10.96.0.10/80",
                    "frontend/TCP/10.0.0.1/30080",
                    "frontend/TCP/203.0.113.5/80",
                },
                "n2": {
                    "frontend/TCP/10.96.0.10/80",
                    "frontend/TCP/10.0.0.2/30080",
                    "frontend/TCP/203.0.113.5/80",
                },
            },
        ),
    ],
)
def test_frontends_per_type(
    svc_type: str, extra: dict[str, Any], expected: dict[str, set[str]]
) -> None:
    port: dict[str, Any] = {"port": 80, "targetPort": 8080}
    if svc_type != "ClusterIP":
        port["nodePort"] = 30080
    result = frontends(
        make_service("web", ports=[port], type=svc_type, **extra), make_endpoints("web", EPS)
    )
    assert {n: set(f) for n, f in result.items()} == expected
    # IPv6 node addresses get no node port: these endpoints have no IPv6 address.
    for fes in result.values():
        for fe in fes.values():
            assert backends(fe) == [("10.244.1.1", 8080, 1), ("10.244.2.1", 8080, 1)]


def test_family_mismatch_gives_no_frontend() -> None:
    result = frontends(
        make_service("web", ports=[{"port": 80, "nodePort": 30080}], type="NodePort"),
        make_endpoints("web", EPS),
    )
    assert "frontend/TCP/fd00::1/30080" not in result["n1"]  # no IPv6 endpoint address


@pytest.mark.parametrize(
    ("policy_field", "svc_type", "kind_key", "local_nodes"),
    [
        (
            "internalTrafficPolicy",
            "ClusterIP",
            "frontend/TCP/10.96.0.10/80",
            {"n1": "10.244.1.1", "n2": "10.244.2.1"},
        ),
        (
            "externalTrafficPolicy",
            "NodePort",
            "frontend/TCP/{node_ip}/30080",
            {"n1": "10.244.1.1", "n2": "10.244.2.1"},
        ),
        (
            "externalTrafficPolicy",
            "LoadBalancer",
            "frontend/TCP/203.0.113.5/80",
            {"n1": "10.244.1.1", "n2": "10.244.2.1"},
        ),
    ],
)
@pytest.mark.parametrize("policy", ["Cluster", "Local"])
def test_traffic_policies(
    policy_field: str, svc_type: str, kind_key: str, local_nodes: dict[str, str], policy: str
) -> None:
    port: dict[str, Any] = {"port": 80, "targetPort": 8080}
    extra: dict[str, Any] = {policy_field: policy}
    if svc_type != "ClusterIP":
        port["nodePort"] = 30080
    if svc_type == "LoadBalancer":
        extra["loadBalancerIPs"] = ["203.0.113.5"]
    result = frontends(
        make_service("web", ports=[port], type=svc_type, **extra), make_endpoints("web", EPS)
    )
    for node, node_ip in (("n1", "10.0.0.1"), ("n2", "10.0.0.2")):
        fe = result[node][kind_key.format(node_ip=node_ip)]
        if policy == "Local":
            assert backends(fe) == [(local_nodes[node], 8080, 1)]
            assert fe.local_only
        else:
            assert len(fe.backends) == 2
            assert not fe.local_only
    # The other policy does not apply: ClusterIP stays cluster-wide under ETP=Local.
    if policy_field == "externalTrafficPolicy" and policy == "Local":
        assert len(result["n1"]["frontend/TCP/10.96.0.10/80"].backends) == 2


def test_local_policy_without_local_endpoint_emits_nothing() -> None:
    result = frontends(
        make_service("web", ports=[{"port": 80}], internalTrafficPolicy="Local"),
        make_endpoints("web", [endpoint("10.244.1.1", node="n1")]),
    )
    assert "frontend/TCP/10.96.0.10/80" in result["n1"]
    assert "frontend/TCP/10.96.0.10/80" not in result["n2"]


R, T_SERVING, T_GONE, NOT_READY = "ready", "serving-terminating", "terminating", "not-ready"
COND: dict[str, dict[str, Any]] = {
    R: {"ready": True},
    T_SERVING: {"ready": False, "serving": True, "terminating": True},
    T_GONE: {"ready": False, "serving": False, "terminating": True},
    NOT_READY: {"ready": False, "serving": False},
}


@pytest.mark.parametrize(
    ("conditions", "expected"),
    [
        ([R, R], [1, 1]),
        ([R, NOT_READY], [1, None]),
        ([R, T_SERVING], [1, 0]),  # turned terminating: kept, draining
        ([R, T_GONE], [1, 0]),
        ([T_SERVING, T_SERVING], [1, 1]),  # KEP-1669: no ready left, serving terminating take over
        ([T_SERVING, T_GONE], [1, 0]),
        ([T_GONE, T_GONE], "none"),  # only draining backends: no frontend at all
        ([NOT_READY, NOT_READY], "none"),
        ([], "none"),
    ],
)
def test_endpoint_conditions(conditions: list[str], expected: Any) -> None:
    eps = [endpoint(f"10.244.1.{i + 1}", node="n1", **COND[c]) for i, c in enumerate(conditions)]
    result = frontends(make_service("web", ports=[{"port": 80}]), make_endpoints("web", eps))
    fe = result["n1"].get("frontend/TCP/10.96.0.10/80")
    if expected == "none":
        assert fe is None
        return
    assert fe is not None
    want = [(f"10.244.1.{i + 1}", 80, w) for i, w in enumerate(expected) if w is not None]
    assert backends(fe) == want


@pytest.mark.parametrize(
    ("affinity", "timeout"),
    [
        ({}, 0),
        ({"sessionAffinity": "ClientIP"}, 10800),
        (
            {
                "sessionAffinity": "ClientIP",
                "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 60}},
            },
            60,
        ),
    ],
)
def test_affinity(affinity: dict[str, Any], timeout: int) -> None:
    result = frontends(
        make_service("web", ports=[{"port": 80}], **affinity), make_endpoints("web", EPS)
    )
    assert result["n1"]["frontend/TCP/10.96.0.10/80"].affinity_timeout == timeout


PODS = [
    make_pod("a", "n1", ["10.244.1.1"], ports=[{"name": "http", "containerPort": 8080}]),
    make_pod("b", "n2", ["10.244.2.1"], ports=[{"name": "http", "containerPort": 9090}]),
    make_pod("c", "n2", ["10.244.2.2"], ports=[{"name": "other", "containerPort": 7070}]),
]


@pytest.mark.parametrize(
    ("target", "slice_ports", "expected"),
    [
        ("http", [], [("10.244.1.1", 8080), ("10.244.2.1", 9090)]),  # c lacks "http": skipped
        (
            "http",
            [{"name": "web", "port": 8888}],
            [("10.244.1.1", 8080), ("10.244.2.1", 9090), ("10.244.2.2", 8888)],
        ),
        (8000, [], [("10.244.1.1", 8000), ("10.244.2.1", 8000), ("10.244.2.2", 8000)]),
        (None, [], [("10.244.1.1", 80), ("10.244.2.1", 80), ("10.244.2.2", 80)]),
    ],
)
def test_target_ports(
    target: Any, slice_ports: list[dict[str, Any]], expected: list[tuple[str, int]]
) -> None:
    eps = [endpoint(p.spec.podIPs[0], node=p.spec.nodeName, pod=p.name) for p in PODS]
    result = frontends(
        *PODS,
        make_service("web", ports=[{"name": "web", "port": 80, "targetPort": target}]),
        make_endpoints("web", eps, slice_ports),
    )
    fe = result["n1"]["frontend/TCP/10.96.0.10/80"]
    assert [(b.address, b.port) for b in fe.backends] == expected


def test_named_port_follows_pod_change_incrementally() -> None:
    compiler = Compiler()
    eps = [endpoint("10.244.1.1", node="n1", pod="a")]
    objs = [
        *NODES,
        PODS[0],
        make_service("web", ports=[{"port": 80, "targetPort": "http"}]),
        make_endpoints("web", eps),
    ]
    compiler.apply(IntentChange(o.ref, o) for o in objs)
    moved = make_pod("a", "n1", ["10.244.1.1"], ports=[{"name": "http", "containerPort": 8443}])
    deltas = compiler.apply([IntentChange(moved.ref, moved)])
    fe = deltas["n1"].upserts["frontend/TCP/10.96.0.10/80"]
    assert isinstance(fe, ServiceFrontend)
    assert fe.backends == (Backend("10.244.1.1", 8443),)
    assert set(deltas) == {"n1", "n2"}  # one shared cluster-wide change


def test_dual_stack_service() -> None:
    eps = [endpoint(["10.244.1.1", "fd00:244::1"], node="n1"), endpoint("10.244.2.1", node="n2")]
    result = frontends(
        make_service("web", ["10.96.0.10", "fd00:96::10"], [{"port": 80}]),
        make_endpoints("web", eps, address_type="DualStack"),
    )
    v4 = result["n2"]["frontend/TCP/10.96.0.10/80"]
    v6 = result["n2"]["frontend/TCP/fd00:96::10/80"]
    assert backends(v4) == [("10.244.1.1", 80, 1), ("10.244.2.1", 80, 1)]
    assert backends(v6) == [("fd00:244::1", 80, 1)]


def test_missing_service_or_endpoints_is_silent() -> None:
    compiler = Compiler()
    objs = [*NODES, make_endpoints("ghost", EPS), make_service("lonely")]
    compiler.apply(IntentChange(o.ref, o) for o in objs)
    assert compiler.errors() == []
    assert not any(
        isinstance(v, ServiceFrontend) for v in compiler.node_config("n1").objects.values()
    )


def test_duplicate_cluster_ip_is_an_error_and_smallest_name_wins() -> None:
    compiler = Compiler()
    objs = [
        *NODES,
        make_service("b-svc"),
        make_service("a-svc"),
        make_endpoints("a-svc", EPS[:1]),
        make_endpoints("b-svc", EPS[1:]),
    ]
    compiler.apply(IntentChange(o.ref, o) for o in objs)
    fe = compiler.node_config("n1").objects["frontend/TCP/10.96.0.10/80"]
    assert isinstance(fe, ServiceFrontend) and fe.service == "default/a-svc"
    [error] = compiler.errors()
    assert str(error.ref) == "Service/default/b-svc"


def test_multi_port_and_udp() -> None:
    result = frontends(
        make_service(
            "dns",
            ports=[
                {"name": "dns", "port": 53, "protocol": "UDP"},
                {"name": "dns-tcp", "port": 53, "protocol": "TCP"},
            ],
        ),
        make_endpoints("dns", EPS),
    )
    assert {"frontend/UDP/10.96.0.10/53", "frontend/TCP/10.96.0.10/53"} <= set(result["n1"])
