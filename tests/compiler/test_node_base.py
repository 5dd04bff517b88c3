"""Per-node basics: SNAT, managed interfaces, static routes to pod CIDRs."""

from __future__ import annotations

from typing import Any

import pytest

from switchyard_api.compiler.engine import Compiler
from switchyard_api.compiler.node_base import exclude_prefixes
from switchyard_api.compiler.part import IntentChange
from switchyard_contract.nodeconfig import (
    ManagedInterface,
    NextHop,
    NodeObject,
    Route,
    SnatConfig,
)

from .factories import make_node, make_pod, make_service


def compile_objects(*objs: Any) -> tuple[dict[str, dict[str, NodeObject]], list[str]]:
    compiler = Compiler()
    compiler.apply(IntentChange(o.ref, o) for o in objs)
    configs = {n: dict(compiler.node_config(n).objects) for n in sorted(compiler.nodes)}
    return configs, [e.message for e in compiler.errors()]


def test_snat_addresses_and_excludes() -> None:
    configs, _ = compile_objects(
        make_node("a", ["10.0.0.1", "10.0.0.9", "fd00::1"], ["10.244.1.0/24", "fd00:244:1::/64"]),
        make_node("b", ["fd00::2"], ["10.244.2.0/24"]),
        make_service("s1", ["10.96.0.10"]),
        make_service("s2", ["10.96.0.11", "fd00:96::11"]),
    )
    want = (
        "10.96.0.10/31",
        "10.244.1.0/24",
        "10.244.2.0/24",
        "fd00:96::11/128",
        "fd00:244:1::/64",
    )
    assert configs["a"]["snat"] == SnatConfig("10.0.0.1", "fd00::1", want)
    assert configs["b"]["snat"] == SnatConfig(None, "fd00::2", want)


@pytest.mark.parametrize(
    ("prefixes", "ips", "expected"),
    [
        ([], [], ()),
        (
            ["10.244.0.0/24"],
            ["10.96.0.1", "10.96.0.3"],
            ("10.96.0.1/32", "10.96.0.3/32", "10.244.0.0/24"),
        ),
        ([], [f"10.96.0.{i}" for i in range(256)], ("10.96.0.0/24",)),
    ],
)
def test_exclude_prefixes_are_exact(
    prefixes: list[str], ips: list[str], expected: tuple[str, ...]
) -> None:
    assert exclude_prefixes(prefixes, ips) == expected


def test_managed_interfaces() -> None:
    configs, _ = compile_objects(
        make_node("a", uplink="GigabitEthernet0/8/0"),
        make_node("b", ["10.0.0.2"]),
        make_pod("p1", "a", interface="memif1/0"),
        make_pod("p2", "a"),  # no interface yet
        make_pod("p3", "b", interface="tap3"),
    )
    assert {k: v for k, v in configs["a"].items() if isinstance(v, ManagedInterface)} == {
        "interface/GigabitEthernet0/8/0": ManagedInterface("GigabitEthernet0/8/0", "uplink"),
        "interface/memif1/0": ManagedInterface("memif1/0", "pod"),
    }
    assert "interface/tap3" in configs["b"]


@pytest.mark.parametrize("with_bgp", [False, True])
def test_routes_only_without_bgp(with_bgp: bool) -> None:
    bgp = {"asn": 65001, "routerId": "10.0.0.1"} if with_bgp else None
    configs, errors = compile_objects(
        make_node("a", ["10.0.0.1"], ["10.244.1.0/24"], bgp=bgp),
        make_node("b", ["10.0.0.2", "10.1.0.2", "fd00::2"], ["10.244.2.0/24", "fd00:244:2::/64"]),
        make_node("c", ["10.0.0.3"], ["10.244.3.0/24", "fd00:244:3::/64"]),
    )
    routes = {k: v for k, v in configs["a"].items() if isinstance(v, Route)}
    if with_bgp:
        assert routes == {}
    else:
        assert routes == {
            "route/10.244.2.0/24": Route(
                "10.244.2.0/24", (NextHop("10.0.0.2"), NextHop("10.1.0.2"))
            ),
            "route/fd00:244:2::/64": Route("fd00:244:2::/64", (NextHop("fd00::2"),)),
            "route/10.244.3.0/24": Route("10.244.3.0/24", (NextHop("10.0.0.3"),)),
        }
    assert "route/10.244.2.0/24" not in configs["b"]  # never to its own pod CIDR
    assert "no IPv6 address to route pod CIDR fd00:244:3::/64 to" in errors
