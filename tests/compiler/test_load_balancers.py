"""External L3 load balancer: talk option 1 (GRE to nodes, with or without a service) and
option 2 (L3DSR to a service's pods), fixed addresses, errors."""

from __future__ import annotations

from typing import Any

import pytest

from switchyard_api.compiler.engine import Compiler
from switchyard_api.compiler.part import IntentChange
from switchyard_contract.nodeconfig import (
    GreTunnel,
    LbGlobal,
    LbServer,
    LbVip,
    NodeObject,
    ServiceFrontend,
)

from .factories import endpoint, make_endpoints, make_load_balancer, make_node, make_service

LB = {"matchLabels": {"role": "lb"}}
NODES = [
    make_node("lb1", ["10.0.0.1", "fd00::1"], labels={"role": "lb"}),
    make_node("w1", ["10.0.1.1", "fd00::11"], labels={"role": "web"}),
    make_node("w2", ["10.0.1.2"], labels={"role": "web"}),
    make_node("w3", ["10.0.1.3"], labels={"role": "db"}),
]
SVC = {"service": {"namespace": "default", "name": "web"}}
ENDPOINTS = make_endpoints(
    "web",
    [
        endpoint("10.244.1.1", node="w1"),
        endpoint("10.244.2.1", node="w2", ready=False, terminating=True, serving=False),
    ],
)


def compile_objects(*objs: Any) -> tuple[dict[str, dict[str, NodeObject]], list[str]]:
    compiler = Compiler()
    compiler.apply(IntentChange(o.ref, o) for o in [*NODES, *objs])
    configs = {n: dict(compiler.node_config(n).objects) for n in sorted(compiler.nodes)}
    return configs, [f"{e.ref} {e.node}: {e.message}" for e in compiler.errors()]


def of_type(objects: dict[str, NodeObject], kind: type) -> dict[str, Any]:
    return {k: v for k, v in objects.items() if isinstance(v, kind)}


@pytest.mark.parametrize(
    ("backends", "extra", "servers", "gre_nodes"),
    [
        # Option 1, nodes by selector: every matching node is a server.
        (
            {"nodeSelector": {"matchLabels": {"role": "web"}}},
            [],
            ["10.0.1.1", "10.0.1.2"],
            {"w1", "w2"},
        ),
        # No selector and no service: every node.
        (
            {"nodeSelector": {}},
            [],
            ["10.0.0.1", "10.0.1.1", "10.0.1.2", "10.0.1.3"],
            {"w1", "w2", "w3"},
        ),
        # Service, ETP=Cluster: every candidate node while the service has a live endpoint.
        (
            {"nodeSelector": {"matchLabels": {"role": "web"}}, **SVC},
            ["svc", "eps"],
            ["10.0.1.1", "10.0.1.2"],
            {"w1", "w2"},
        ),
        # Service without live endpoints: no servers.
        (SVC, ["svc"], [], set()),
        # Fixed addresses: no tunnels on nodes.
        ({"addresses": ["192.0.2.10", "192.0.2.11"]}, [], ["192.0.2.10", "192.0.2.11"], set()),
    ],
)
def test_gre4(
    backends: dict[str, Any], extra: list[str], servers: list[str], gre_nodes: set[str]
) -> None:
    objs: list[Any] = [make_load_balancer("vip", backends=backends, lb_node_selector=LB)]
    if "svc" in extra:
        objs.append(make_service("web", ports=[{"port": 80, "targetPort": 8080}]))
    if "eps" in extra:
        objs.append(ENDPOINTS)
    configs, errors = compile_objects(*objs)
    assert errors == []
    vip = configs["lb1"]["lb-vip/TCP/203.0.113.10/32/80"]
    assert isinstance(vip, LbVip)
    assert [s.address for s in vip.servers] == servers
    assert configs["lb1"]["lb-global"] == LbGlobal("10.0.0.1", "fd00::1", 1024, 40)
    assert {n for n, objs_ in configs.items() if of_type(objs_, LbVip)} == {"lb1"}
    tunnels = {n for n, objs_ in configs.items() if of_type(objs_, GreTunnel)}
    assert tunnels == gre_nodes
    for node in gre_nodes:
        [tunnel] = of_type(configs[node], GreTunnel).values()
        assert tunnel.remote == "10.0.0.1"


def test_gre_with_service_gives_vip_frontends_on_backend_nodes() -> None:
    configs, _ = compile_objects(
        make_load_balancer(
            "vip",
            backends={"nodeSelector": {"matchLabels": {"role": "web"}}, **SVC},
            lb_node_selector=LB,
        ),
        make_service(
            "web",
            ports=[
                {"port": 80, "targetPort": 8080},
            ][:1],
        ),
        ENDPOINTS,
    )
    for node in ("w1", "w2"):
        fe = configs[node]["frontend/TCP/203.0.113.10/80"]
        assert isinstance(fe, ServiceFrontend) and fe.kind == "loadBalancerIP"
        assert [(b.address, b.port, b.weight) for b in fe.backends] == [
            ("10.244.1.1", 8080, 1),
            ("10.244.2.1", 8080, 0),
        ]
    assert "frontend/TCP/203.0.113.10/80" not in configs["w3"]


def test_gre_with_local_service_uses_only_nodes_with_local_endpoints() -> None:
    configs, _ = compile_objects(
        make_load_balancer("vip", backends=SVC, lb_node_selector=LB),
        make_service(
            "web",
            ports=[{"port": 80, "nodePort": 30080}],
            type="LoadBalancer",
            externalTrafficPolicy="Local",
        ),
        ENDPOINTS,
    )
    vip = configs["lb1"]["lb-vip/TCP/203.0.113.10/32/80"]
    assert isinstance(vip, LbVip) and vip.servers == (LbServer("10.0.1.1"),)
    assert "frontend/TCP/203.0.113.10/80" in configs["w1"]
    assert not of_type(configs["w2"], GreTunnel)


def test_gre6_backend_without_ipv6_is_an_error() -> None:
    configs, errors = compile_objects(
        make_load_balancer(
            "vip",
            "2001:db8::10/128",
            {"nodeSelector": {"matchLabels": {"role": "web"}}},
            LB,
            encap="gre6",
        ),
    )
    vip = configs["lb1"]["lb-vip/TCP/2001:db8::10/128/80"]
    assert isinstance(vip, LbVip) and vip.servers == (LbServer("fd00::11"),)
    assert errors == ["LoadBalancer/vip w2: backend node w2 has no IPv6 address for gre6"]
    [tunnel] = of_type(configs["w1"], GreTunnel).values()
    assert tunnel == GreTunnel("fd00::11", "fd00::1")


@pytest.mark.parametrize(
    ("conditions", "servers"),
    [
        ([{}, {}], [("10.244.1.1", 1), ("10.244.2.1", 1)]),
        ([{}, {"ready": False, "terminating": True}], [("10.244.1.1", 1), ("10.244.2.1", 0)]),
        (
            [{"ready": False, "serving": True, "terminating": True}, {"ready": False}],
            [("10.244.1.1", 1)],
        ),
        ([{"ready": False}, {"ready": False}], []),
    ],
)
def test_l3dsr_to_service_pods(
    conditions: list[dict[str, Any]], servers: list[tuple[str, int]]
) -> None:
    eps = [endpoint(f"10.244.{i + 1}.1", node=f"w{i + 1}", **c) for i, c in enumerate(conditions)]
    configs, errors = compile_objects(
        make_load_balancer("dsr", backends=SVC, lb_node_selector=LB, encap="l3dsr", dscp=12),
        make_service("web", ports=[{"port": 80}]),
        make_endpoints("web", eps),
    )
    assert errors == []
    vip = configs["lb1"]["lb-vip/TCP/203.0.113.10/32/80"]
    assert isinstance(vip, LbVip) and vip.encap == "l3dsr" and vip.dscp == 12
    assert [(s.address, s.weight) for s in vip.servers] == servers
    assert not any(of_type(c, GreTunnel) for c in configs.values())


def test_lb_source_override_and_missing_source() -> None:
    compiler = Compiler()
    objs = [
        make_node(
            "a",
            ["10.0.0.1"],
            labels={"role": "lb"},
            loadBalancer={"ip4SourceAddress": "192.0.2.1", "flowTimeoutSeconds": 10},
        ),
        make_node("b", ["fd00::2"], labels={"role": "lb"}),
        make_node("w", ["10.0.1.1"]),
        make_load_balancer(
            "vip", backends={"nodeSelector": {"matchLabels": {"x": "y"}}}, lb_node_selector=LB
        ),
    ]
    compiler.apply(IntentChange(o.ref, o) for o in objs)
    a = compiler.node_config("a").objects
    assert a["lb-global"] == LbGlobal("192.0.2.1", None, 1024, 10)
    assert "lb-vip/TCP/203.0.113.10/32/80" not in compiler.node_config("b").objects
    assert [e.message for e in compiler.errors()] == ["LB node b has no IPv4 encap source address"]


def test_missing_service_is_reported() -> None:
    _, errors = compile_objects(make_load_balancer("vip", backends=SVC, lb_node_selector=LB))
    assert errors == ["LoadBalancer/vip : backends.service default/web does not exist"]


def test_protocol_any_uses_every_service_port() -> None:
    configs, _ = compile_objects(
        make_load_balancer("vip", backends=SVC, lb_node_selector=LB, protocol="Any", port=0),
        make_service(
            "web", ports=[{"name": "a", "port": 80}, {"name": "b", "port": 53, "protocol": "UDP"}]
        ),
        make_endpoints("web", [endpoint("10.244.1.1", node="w1")]),
    )
    assert {"frontend/TCP/203.0.113.10/80", "frontend/UDP/203.0.113.10/53"} <= set(configs["w1"])
    assert "lb-vip/Any/203.0.113.10/32/0" in configs["lb1"]


def test_lb_frontend_yields_to_the_services_own_lb_ip() -> None:
    configs, errors = compile_objects(
        make_load_balancer("vip", backends=SVC, lb_node_selector=LB),
        make_service(
            "web",
            ports=[{"port": 80, "nodePort": 30080}],
            type="LoadBalancer",
            loadBalancerIPs=["203.0.113.10"],
        ),
        ENDPOINTS,
    )
    assert errors == []
    fe = configs["w1"]["frontend/TCP/203.0.113.10/80"]
    assert isinstance(fe, ServiceFrontend) and not fe.local_only
