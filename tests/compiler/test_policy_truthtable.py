"""The Kubernetes netpol e2e truth tables, checked on the compiled ACLs.

3 namespaces (x, y, z) x 3 pods (a, b, c), dual-stack, spread over two nodes; probes on ports
80, 81 (and 53) over TCP and UDP, plus a ClusterIP service in front of z/c. For every scenario
the allow/deny matrix that VPP's ACL semantics give on the compiled ACLs (acl_eval) must equal
the reference evaluation of the policies (netpol_reference), and a few cells are pinned to the
expectations the e2e suite writes down, so a wrong reference cannot agree with a wrong compiler.
"""

from __future__ import annotations

from typing import Any

import pytest

from switchyard_api.compiler.part import IntentChange
from switchyard_api.compiler.policy import PolicyCompiler

from .acl_eval import PROTO, Dataplane, build_dataplane
from .factories import make_namespace, make_network_policy, make_node, make_pod
from .netpol_reference import RefCluster

NAMESPACES = ("x", "y", "z")
PODS = ("a", "b", "c")
PORTS = (80, 81, 53)
PROTOCOLS = ("TCP", "UDP")
VIP4, VIP6 = "10.96.0.10", "fd96::10"


def ip4(ns: str, pod: str) -> str:
    return f"10.1.{NAMESPACES.index(ns)}.{PODS.index(pod) + 1}"


def ip6(ns: str, pod: str) -> str:
    return f"fd01::{NAMESPACES.index(ns)}:{PODS.index(pod) + 1}"


def base_intent() -> list[Any]:
    objs: list[Any] = [
        make_node("n1", ["10.0.0.1", "fd00::1"], uplink="uplink0"),
        make_node("n2", ["10.0.0.2", "fd00::2"], uplink="uplink0"),
    ]
    objs += [make_namespace(ns, {"ns": ns}) for ns in NAMESPACES]
    ports = [
        {"name": f"serve-{n}-{p.lower()}", "containerPort": n, "protocol": p}
        for n in PORTS
        for p in PROTOCOLS
    ]
    for i, (ns, pod) in enumerate((ns, pod) for ns in NAMESPACES for pod in PODS):
        objs.append(
            make_pod(
                pod,
                "n1" if i % 2 == 0 else "n2",
                [ip4(ns, pod), ip6(ns, pod)],
                ns,
                {"pod": pod},
                f"tap-{ns}-{pod}",
                ports,
            )
        )
    return objs


# ClusterIP service in front of z/c: port 8080 -> 80, 8081 -> 81 (both protocols).
SERVICES = {
    (vip, PROTO[proto], 8000 + port): (backend, port)
    for vip, backend in ((VIP4, ip4("z", "c")), (VIP6, ip6("z", "c")))
    for proto in PROTOCOLS
    for port in (80, 81)
}


def compile_scenario(policies: list[Any]) -> tuple[Dataplane, RefCluster]:
    intent = base_intent() + policies
    compiler = PolicyCompiler()
    for obj in intent:
        compiler.apply(IntentChange(obj.ref, obj))
    compiler.drain()
    assert compiler.errors() == []
    compiled = {node: compiler.objects(node) for node in ("n1", "n2")}
    return build_dataplane(compiled, intent, SERVICES), RefCluster.from_intent(intent)


def np(name: str, ns: str = "x", selector: dict[str, Any] | None = None, **spec: Any) -> Any:
    return make_network_policy(name, ns, selector or {}, **spec)


def only(pod: str) -> dict[str, Any]:
    return {"matchLabels": {"pod": pod}}


def ns_sel(ns: str) -> dict[str, Any]:
    return {"matchLabels": {"ns": ns}}


# name -> (policies, pinned cells {(src "ns/pod", dst "ns/pod", proto, port): allowed})
SCENARIOS: dict[str, tuple[list[Any], dict[tuple[str, str, str, int], bool]]] = {
    "no policy": ([], {("x/a", "y/b", "TCP", 80): True}),
    "default deny ingress": (
        [np("deny", policyTypes=["Ingress"])],
        {
            ("y/a", "x/a", "TCP", 80): False,
            ("x/b", "x/a", "UDP", 81): False,
            ("x/a", "y/b", "TCP", 80): True,
        },  # egress of x still works: its replies come back
    ),
    "default deny egress": (
        [np("deny", policyTypes=["Egress"])],
        {("x/a", "y/b", "TCP", 80): False, ("y/b", "x/a", "TCP", 80): True},
    ),
    "default deny both": (
        [np("deny", policyTypes=["Ingress", "Egress"])],
        {
            ("x/a", "x/b", "TCP", 80): False,
            ("y/a", "x/b", "UDP", 53): False,
            ("y/a", "y/b", "TCP", 80): True,
        },
    ),
    "allow from namespace": (
        [np("from-y", ingress=[{"from": [{"namespaceSelector": ns_sel("y")}]}])],
        {
            ("y/c", "x/a", "TCP", 81): True,
            ("z/c", "x/a", "TCP", 81): False,
            ("x/b", "x/a", "TCP", 80): False,
        },
    ),
    "allow from namespace by expression": (
        [
            np(
                "not-x",
                ingress=[
                    {
                        "from": [
                            {
                                "namespaceSelector": {
                                    "matchExpressions": [
                                        {"key": "ns", "operator": "NotIn", "values": ["x"]}
                                    ]
                                }
                            }
                        ]
                    }
                ],
            )
        ],
        {("y/c", "x/a", "TCP", 81): True, ("x/b", "x/a", "TCP", 80): False},
    ),
    "allow from namespace by its name label": (
        [
            np(
                "by-name",
                ingress=[
                    {
                        "from": [
                            {
                                "namespaceSelector": {
                                    "matchLabels": {"kubernetes.io/metadata.name": "z"}
                                }
                            }
                        ]
                    }
                ],
            )
        ],
        {("z/a", "x/b", "UDP", 80): True, ("y/a", "x/b", "UDP", 80): False},
    ),
    "allow from pod in namespace (AND)": (
        [
            np(
                "and",
                selector=only("a"),
                ingress=[{"from": [{"namespaceSelector": ns_sel("y"), "podSelector": only("b")}]}],
            )
        ],
        {
            ("y/b", "x/a", "TCP", 80): True,
            ("y/a", "x/a", "TCP", 80): False,
            ("x/b", "x/a", "TCP", 80): False,
            ("y/a", "x/b", "TCP", 80): True,
        },
    ),
    "allow from pod or namespace (OR)": (
        [
            np(
                "or",
                selector=only("a"),
                ingress=[
                    {"from": [{"namespaceSelector": ns_sel("y")}, {"podSelector": only("b")}]}
                ],
            )
        ],
        {
            ("y/a", "x/a", "TCP", 80): True,
            ("x/b", "x/a", "TCP", 80): True,
            ("z/b", "x/a", "TCP", 80): False,
        },
    ),
    "podSelector alone means the policy's namespace": (
        [np("same-ns", selector=only("a"), ingress=[{"from": [{"podSelector": only("b")}]}])],
        {("x/b", "x/a", "TCP", 80): True, ("y/b", "x/a", "TCP", 80): False},
    ),
    "namespaceSelector {} means every namespace": (
        [np("all-ns", ingress=[{"from": [{"namespaceSelector": {}}], "ports": [{"port": 80}]}])],
        {
            ("z/c", "x/a", "TCP", 80): True,
            ("z/c", "x/a", "TCP", 81): False,
            ("z/c", "x/a", "UDP", 80): False,
        },
    ),
    "ipBlock with except (ingress)": (
        [
            np(
                "cidr",
                selector=only("a"),
                ingress=[
                    {"from": [{"ipBlock": {"cidr": "10.1.0.0/16", "except": ["10.1.1.0/24"]}}]}
                ],
            )
        ],
        {("z/b", "x/a", "TCP", 80): True, ("y/b", "x/a", "TCP", 80): False},
    ),
    "ipBlock with except (egress) plus an overlapping permit": (
        [
            np(
                "cidr",
                selector=only("a"),
                egress=[{"to": [{"ipBlock": {"cidr": "10.1.2.0/24", "except": ["10.1.2.2/32"]}}]}],
            ),
            np(
                "one-host",
                selector=only("a"),
                egress=[{"to": [{"ipBlock": {"cidr": "10.1.2.2/32"}}], "ports": [{"port": 81}]}],
            ),
        ],
        {
            ("x/a", "z/a", "TCP", 80): True,
            ("x/a", "z/b", "TCP", 80): False,
            ("x/a", "z/b", "TCP", 81): True,
            ("x/a", "y/a", "TCP", 80): False,
        },
    ),
    "named port ingress": (
        [np("named", selector=only("a"), ingress=[{"ports": [{"port": "serve-80-tcp"}]}])],
        {
            ("y/b", "x/a", "TCP", 80): True,
            ("y/b", "x/a", "TCP", 81): False,
            ("y/b", "x/a", "UDP", 80): False,
        },
    ),
    "named port ingress with a wrong protocol matches nothing": (
        [
            np(
                "named-udp",
                selector=only("a"),
                ingress=[{"ports": [{"port": "serve-80-tcp", "protocol": "UDP"}]}],
            )
        ],
        {("y/b", "x/a", "TCP", 80): False, ("y/b", "x/a", "UDP", 80): False},
    ),
    "named port egress to everywhere (e2e: egress on one named port)": (
        [
            np(
                "named-egress",
                selector=only("a"),
                policyTypes=["Egress"],
                egress=[{"ports": [{"port": "serve-80-tcp"}, {"port": 53, "protocol": "UDP"}]}],
            )
        ],
        {
            ("x/a", "y/b", "TCP", 80): True,
            ("x/a", "y/b", "TCP", 81): False,
            ("x/a", "z/c", "UDP", 53): True,
        },
    ),
    "named port egress to selected pods": (
        [
            np(
                "named-peer",
                selector=only("a"),
                egress=[
                    {
                        "to": [{"podSelector": only("b"), "namespaceSelector": {}}],
                        "ports": [{"port": "serve-81-udp", "protocol": "UDP"}],
                    }
                ],
            )
        ],
        {
            ("x/a", "y/b", "UDP", 81): True,
            ("x/a", "y/c", "UDP", 81): False,
            ("x/a", "y/b", "UDP", 80): False,
        },
    ),
    "named port egress to an ipBlock resolves on pods inside it": (
        [
            np(
                "named-cidr",
                selector=only("a"),
                egress=[
                    {
                        "to": [{"ipBlock": {"cidr": "10.1.1.0/24"}}],
                        "ports": [{"port": "serve-80-udp", "protocol": "UDP"}],
                    }
                ],
            )
        ],
        {
            ("x/a", "y/c", "UDP", 80): True,
            ("x/a", "z/c", "UDP", 80): False,
            ("x/a", "y/c", "UDP", 81): False,
        },
    ),
    "endPort range": (
        [np("range", ingress=[{"ports": [{"port": 80, "endPort": 81}]}])],
        {
            ("y/a", "x/a", "TCP", 80): True,
            ("y/a", "x/a", "TCP", 81): True,
            ("y/a", "x/a", "TCP", 53): False,
            ("y/a", "x/a", "UDP", 80): False,
        },
    ),
    "protocol without port": (
        [np("udp-only", ingress=[{"ports": [{"protocol": "UDP"}]}])],
        {("y/a", "x/a", "UDP", 81): True, ("y/a", "x/a", "TCP", 81): False},
    ),
    "egress to a ClusterIP service (judged post-DNAT)": (
        [
            np(
                "to-zc",
                selector=only("a"),
                egress=[
                    {
                        "to": [{"namespaceSelector": ns_sel("z"), "podSelector": only("c")}],
                        "ports": [{"port": 80}],
                    }
                ],
            )
        ],
        {("x/a", "z/c", "TCP", 80): True, ("x/a", "z/c", "TCP", 81): False},
    ),
    "multiple policies union": (
        [
            np("p1", selector=only("a"), ingress=[{"from": [{"podSelector": only("b")}]}]),
            np(
                "p2",
                selector=only("a"),
                ingress=[{"from": [{"namespaceSelector": ns_sel("y")}], "ports": [{"port": 81}]}],
            ),
        ],
        {
            ("x/b", "x/a", "TCP", 80): True,
            ("y/c", "x/a", "TCP", 81): True,
            ("y/c", "x/a", "TCP", 80): False,
            ("x/c", "x/a", "TCP", 81): False,
        },
    ),
    "allow-all ingress {} beside a deny-all": (
        [np("deny", policyTypes=["Ingress"]), np("allow", ingress=[{}])],
        {("z/c", "x/a", "UDP", 53): True},
    ),
    "empty ingress list denies": (
        [np("empty", ingress=[])],
        {("z/c", "x/a", "UDP", 53): False, ("x/b", "x/a", "TCP", 80): False},
    ),
    "empty from and empty ports allow everything": (
        [np("empties", ingress=[{"from": [], "ports": []}])],
        {("z/c", "x/a", "UDP", 53): True},
    ),
    "policies in other namespaces do not affect x": (
        [np("deny-y", ns="y", policyTypes=["Ingress", "Egress"])],
        {
            ("x/a", "x/b", "TCP", 80): True,
            ("x/a", "y/b", "TCP", 80): False,
            ("y/a", "x/b", "TCP", 80): False,
        },
    ),
    "deny all egress but DNS-like UDP 53": (
        [np("dns", policyTypes=["Egress"], egress=[{"ports": [{"port": 53, "protocol": "UDP"}]}])],
        {
            ("x/a", "y/a", "UDP", 53): True,
            ("x/a", "y/a", "TCP", 53): False,
            ("x/a", "y/a", "UDP", 80): False,
            ("y/a", "x/a", "TCP", 80): True,
        },
    ),
    "policyTypes Egress ignores ingress rules": (
        [
            np(
                "egress-only",
                policyTypes=["Egress"],
                ingress=[{"ports": [{"port": 80}]}],
                egress=[{"to": [{"namespaceSelector": {}}]}],
            )
        ],
        {("y/a", "x/a", "TCP", 81): True, ("x/a", "y/a", "UDP", 53): True},
    ),
    "default deny everything in z (the service backend's namespace)": (
        [np("deny-z", ns="z", policyTypes=["Ingress", "Egress"])],
        {("z/c", "z/c", "TCP", 80): True, ("z/a", "z/c", "TCP", 80): False},
    ),
    "matchExpressions pod selector": (
        [
            np(
                "expr",
                selector={
                    "matchExpressions": [{"key": "pod", "operator": "In", "values": ["a", "b"]}]
                },
                ingress=[
                    {
                        "from": [
                            {
                                "podSelector": {
                                    "matchExpressions": [{"key": "pod", "operator": "Exists"}]
                                }
                            }
                        ]
                    }
                ],
            )
        ],
        {
            ("x/c", "x/a", "TCP", 80): True,
            ("y/c", "x/a", "TCP", 80): False,
            ("y/c", "x/c", "TCP", 80): True,
        },
    ),
}


def _addr(name: str, family: int) -> str:
    ns, pod = name.split("/")
    return ip4(ns, pod) if family == 4 else ip6(ns, pod)


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_truth_table(scenario: str) -> None:
    policies, pinned = SCENARIOS[scenario]
    dataplane, reference = compile_scenario(policies)
    names = [f"{ns}/{pod}" for ns in NAMESPACES for pod in PODS]
    mismatches = []
    for family in (4, 6):
        for src in names:
            for protocol in PROTOCOLS:
                for port in PORTS:
                    for dst in names:
                        s, d = _addr(src, family), _addr(dst, family)
                        got = dataplane.connects(s, d, protocol, port)
                        want = reference.allowed(s, d, protocol, port)
                        if got != want:
                            mismatches.append((src, dst, protocol, port, family, got, want))
                    if port == 53:
                        continue
                    # the same probe through the service VIP (backend z/c, target `port`)
                    vip = VIP4 if family == 4 else VIP6
                    got = dataplane.connects(s, vip, protocol, 8000 + port)
                    want = reference.allowed(s, _addr("z/c", family), protocol, port)
                    if got != want:
                        mismatches.append((src, "svc", protocol, port, family, got, want))
    assert mismatches == []
    for (src, dst, protocol, port), expected in pinned.items():
        for family in (4, 6):
            s, d = _addr(src, family), _addr(dst, family)
            if family == 6 and "ipBlock" in scenario:
                continue  # these scenarios' blocks are IPv4 only
            assert reference.allowed(s, d, protocol, port) is expected, (src, dst, protocol, port)
            assert dataplane.connects(s, d, protocol, port) is expected, (src, dst, protocol, port)


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_a_pod_can_always_reach_itself(scenario: str) -> None:
    """Kubernetes: "a pod cannot block access to itself". Direct self traffic is forced
    through the pod's interface ACLs here (a kernel would loop it back); the hairpin (z/c to
    the service whose backend is z/c) takes that path for real."""
    policies, _ = SCENARIOS[scenario]
    dataplane, _ = compile_scenario(policies)
    blocked = []
    for family in (4, 6):
        for name in [f"{ns}/{pod}" for ns in NAMESPACES for pod in PODS]:
            ip = _addr(name, family)
            for protocol in PROTOCOLS:
                for port in PORTS:
                    if not dataplane.connects(ip, ip, protocol, port, kernel_loopback=False):
                        blocked.append((name, protocol, port, family))
        vip = VIP4 if family == 4 else VIP6
        for protocol in PROTOCOLS:
            for port in (80, 81):
                if not dataplane.connects(_addr("z/c", family), vip, protocol, 8000 + port):
                    blocked.append(("z/c via service", protocol, port, family))
    assert blocked == []
