"""BGP: global config, peers by selector, announcements of pod CIDRs, LB VIPs and service
IPs (externalTrafficPolicy Local only from nodes with a ready local endpoint)."""

from __future__ import annotations

from typing import Any

import pytest

from switchyard_api.compiler.engine import Compiler
from switchyard_api.compiler.part import IntentChange
from switchyard_contract.nodeconfig import BgpAnnouncement, BgpGlobal, BgpPeer, NodeObject

from .factories import (
    endpoint,
    make_bgp_peer,
    make_endpoints,
    make_load_balancer,
    make_node,
    make_service,
)

NODES = [
    make_node(
        "a",
        ["10.0.0.1", "fd00::1"],
        ["10.244.1.0/24", "fd00:244:1::/64"],
        labels={"rack": "r1", "role": "lb"},
        bgp={"asn": 65001, "routerId": "10.0.0.1"},
    ),
    make_node(
        "b",
        ["10.0.0.2"],
        ["10.244.2.0/24"],
        labels={"rack": "r2"},
        bgp={"asn": 65001, "routerId": "10.0.0.2"},
    ),
    make_node("c", ["10.0.0.3"], ["10.244.3.0/24"], labels={"rack": "r2"}),  # no BGP
]


def compile_objects(*objs: Any) -> dict[str, dict[str, NodeObject]]:
    compiler = Compiler()
    compiler.apply(IntentChange(o.ref, o) for o in [*NODES, *objs])
    return {n: dict(compiler.node_config(n).objects) for n in sorted(compiler.nodes)}


def announced(objects: dict[str, NodeObject]) -> dict[str, tuple[str, tuple[str, ...]]]:
    return {
        o.prefix: (o.next_hop, o.communities)
        for o in objects.values()
        if isinstance(o, BgpAnnouncement)
    }


def test_global_peers_and_pod_cidrs() -> None:
    configs = compile_objects(
        make_bgp_peer("tor1", "10.0.0.254", node_selector={"matchLabels": {"rack": "r1"}}),
        make_bgp_peer(
            "tor2", "10.0.0.253", 65100, password="s3cret", holdTimeSeconds=30, keepaliveSeconds=10
        ),
    )
    assert configs["a"]["bgp-global"] == BgpGlobal(65001, "10.0.0.1")
    assert {k for k in configs["a"] if k.startswith("bgp-peer/")} == {
        "bgp-peer/10.0.0.254",
        "bgp-peer/10.0.0.253",
    }
    assert configs["b"]["bgp-peer/10.0.0.253"] == BgpPeer(
        "10.0.0.253", 65100, "s3cret", 0, False, 30, 10, ("ipv4-unicast", "ipv6-unicast")
    )
    assert "bgp-peer/10.0.0.254" not in configs["b"]
    assert not any(k.startswith("bgp") for k in configs["c"])  # node without bgp
    assert announced(configs["a"]) == {
        "10.244.1.0/24": ("10.0.0.1", ()),
        "fd00:244:1::/64": ("fd00::1", ()),
    }


@pytest.mark.parametrize(
    ("etp", "ready_nodes", "expected_nodes"),
    [
        ("Cluster", [], {"a", "b"}),
        ("Cluster", ["a"], {"a", "b"}),
        ("Local", [], set()),
        ("Local", ["b"], {"b"}),
        ("Local", ["a", "b", "c"], {"a", "b"}),  # c has no BGP
    ],
)
def test_service_ip_announcements(
    etp: str, ready_nodes: list[str], expected_nodes: set[str]
) -> None:
    eps = [endpoint(f"10.244.9.{i}", node=n) for i, n in enumerate(ready_nodes)]
    eps.append(endpoint("10.244.9.99", node="a", ready=False, terminating=True, serving=True))
    configs = compile_objects(
        make_service(
            "web",
            ports=[{"port": 80, "nodePort": 30080}],
            type="LoadBalancer",
            loadBalancerIPs=["203.0.113.7"],
            externalIPs=["198.51.100.7"],
            externalTrafficPolicy=etp,
        ),
        make_endpoints("web", eps),
    )
    for node, objects in configs.items():
        ann = announced(objects)
        present = {"203.0.113.7/32", "198.51.100.7/32"} <= set(ann)
        assert present == (node in expected_nodes), node
        if present:
            assert ann["203.0.113.7/32"][0] == objects["snat"].snat_ip4


@pytest.mark.parametrize(
    ("enabled", "communities"), [(True, ["65000:100", "65000:1"]), (False, [])]
)
def test_lb_vip_announced_from_lb_nodes(enabled: bool, communities: list[str]) -> None:
    configs = compile_objects(
        make_load_balancer(
            "vip",
            backends={"nodeSelector": {}},
            lb_node_selector={"matchLabels": {"role": "lb"}},
            advertise={"enabled": enabled, "communities": communities},
        ),
    )
    ann = announced(configs["a"])
    if enabled:
        assert ann["203.0.113.10/32"] == ("10.0.0.1", ("65000:1", "65000:100"))
    else:
        assert "203.0.113.10/32" not in ann
    assert "203.0.113.10/32" not in announced(configs["b"])  # not an LB node


def test_same_prefix_from_two_lbs_merges_communities() -> None:
    common: dict[str, Any] = {
        "backends": {"nodeSelector": {}},
        "lb_node_selector": {"matchLabels": {"role": "lb"}},
    }
    configs = compile_objects(
        make_load_balancer("web", advertise={"communities": ["65000:1"]}, **common),
        make_load_balancer("tls", port=443, advertise={"communities": ["65000:2"]}, **common),
    )
    assert announced(configs["a"])["203.0.113.10/32"] == ("10.0.0.1", ("65000:1", "65000:2"))
