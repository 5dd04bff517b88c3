"""Property: for random clusters, policies and flows, VPP's verdict on the compiled ACLs
(acl_eval) equals the reference verdict of Kubernetes semantics (netpol_reference).
The strategies are shared with test_policy_incremental."""

from __future__ import annotations

import ipaddress
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from switchyard_api.compiler.part import IntentChange
from switchyard_api.compiler.policy import PolicyCompiler

from .acl_eval import build_dataplane
from .factories import make_namespace, make_network_policy, make_node, make_pod
from .netpol_reference import RefCluster

NAMESPACES = ("n0", "n1", "n2")
NODES = {"k1": ("10.0.0.1", "fd00::1"), "k2": ("10.0.0.2", "fd00::2")}
PORT_CHOICES = {"http": [(80, "TCP"), (81, "TCP"), (80, "UDP")], "dns": [(53, "UDP"), (53, "TCP")]}
CIDRS = [
    "10.1.0.0/24",
    "10.1.0.0/30",
    "10.1.0.4/30",
    "10.0.0.0/8",
    "0.0.0.0/0",
    "192.0.2.0/24",
    "fd01::/64",
    "fd01::/125",
    "::/0",
]
EXCEPTS = [
    "10.1.0.2/32",
    "10.1.0.0/30",
    "10.1.0.200/32",
    "10.0.0.1/32",
    "fd01::2/128",
    "fd01::/126",
    "192.0.2.128/25",
]
# Addresses that are no pod's: inside and outside the blocks above, and the node hosts.
OUTSIDERS = [
    "192.0.2.7",
    "192.0.2.200",
    "10.1.0.200",
    "fd01::99",
    "2001:db8::1",
    "10.0.0.1",
    "10.0.0.2",
    "fd00::1",
]

PROBES = [(53, "UDP"), (80, "TCP"), (81, "TCP"), (80, "UDP"), (82, "TCP")]

labels_st = st.dictionaries(
    st.sampled_from(["app", "tier"]), st.sampled_from(["web", "db", "1"]), max_size=2
)
ns_labels_st = st.dictionaries(
    st.sampled_from(["team", "env"]), st.sampled_from(["red", "prod"]), max_size=2
)
# Strategies are built once at import: building them per draw dominated the runtime.
_VALUES = st.sampled_from(["web", "db", "1", "red", "prod"])
_OPERATORS = st.sampled_from(["In", "NotIn", "Exists", "DoesNotExist"])


def _selector(keys: tuple[str, ...]) -> st.SearchStrategy[dict[str, Any]]:
    key = st.sampled_from(keys)

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        if draw(st.integers(0, 2)) == 0:
            return {}  # the empty selector (everything) is common in real policies
        match_labels = draw(st.dictionaries(key, _VALUES, max_size=1))
        expressions = []
        for _ in range(draw(st.integers(0, 1))):
            op = draw(_OPERATORS)
            expr: dict[str, Any] = {"key": draw(key), "operator": op}
            if op in ("In", "NotIn"):
                expr["values"] = draw(st.lists(_VALUES, min_size=1, max_size=2))
            expressions.append(expr)
        return {"matchLabels": match_labels, "matchExpressions": expressions}

    return build()


POD_SELECTOR = _selector(("app", "tier"))
NS_SELECTOR = _selector(("team", "env", "kubernetes.io/metadata.name"))


def _excepts(cidr: str) -> st.SearchStrategy[list[str]]:
    outer = ipaddress.ip_network(cidr)
    inside = [
        e
        for e in EXCEPTS
        if (n := ipaddress.ip_network(e)).version == outer.version
        and n.subnet_of(outer)  # type: ignore[arg-type]
        and n != outer  # Kubernetes: a strict subset
    ]
    return st.lists(st.sampled_from(inside), max_size=2, unique=True) if inside else st.just([])


IP_BLOCK = st.sampled_from(CIDRS).flatmap(
    lambda cidr: _excepts(cidr).map(lambda ex: {"ipBlock": {"cidr": cidr, "except": ex}})
)
PEER = st.one_of(
    st.builds(lambda p: {"podSelector": p}, POD_SELECTOR),
    st.builds(lambda n: {"namespaceSelector": n}, NS_SELECTOR),
    st.builds(lambda p, n: {"podSelector": p, "namespaceSelector": n}, POD_SELECTOR, NS_SELECTOR),
    IP_BLOCK,
)
PORT = st.one_of(
    st.builds(lambda proto: {"protocol": proto}, st.sampled_from(["TCP", "UDP"])),
    st.builds(
        lambda proto, n: {"protocol": proto, "port": n},
        st.sampled_from(["TCP", "UDP"]),
        st.sampled_from([53, 80, 81]),
    ),
    st.builds(
        lambda proto, n, w: {"protocol": proto, "port": n, "endPort": n + w},
        st.sampled_from(["TCP", "UDP"]),
        st.sampled_from([53, 79, 80]),
        st.integers(0, 2),
    ),
    st.builds(
        lambda proto, n: {"protocol": proto, "port": n},
        st.sampled_from(["TCP", "UDP"]),
        st.sampled_from(["http", "dns", "nope"]),
    ),
)
# Mostly explicit peers and ports: "everything" rules make flows trivially allowed.
PEERS = st.one_of(st.none(), st.lists(PEER, min_size=1, max_size=2), st.lists(PEER, max_size=2))
PORTS = st.one_of(st.none(), st.lists(PORT, min_size=1, max_size=2), st.lists(PORT, max_size=2))


def _rule(peers_key: str) -> st.SearchStrategy[dict[str, Any]]:
    def build(peers: list[Any] | None, ports: list[Any] | None) -> dict[str, Any]:
        rule: dict[str, Any] = {}
        if peers is not None:
            rule[peers_key] = peers
        if ports is not None:
            rule["ports"] = ports
        return rule

    return st.builds(build, PEERS, PORTS)


INGRESS_RULES = st.lists(_rule("from"), max_size=2)
EGRESS_RULES = st.lists(_rule("to"), max_size=2)
POLICY_TYPES = st.sampled_from([None, ["Ingress"], ["Egress"], ["Ingress", "Egress"]])


@st.composite
def policy_st(draw: st.DrawFn, name: str, namespaces: tuple[str, ...] = NAMESPACES) -> Any:
    spec: dict[str, Any] = {"ingress": draw(INGRESS_RULES), "egress": draw(EGRESS_RULES)}
    types = draw(POLICY_TYPES)
    if types is not None:
        spec["policyTypes"] = types
    namespace = draw(st.sampled_from(namespaces))
    return make_network_policy(name, namespace, draw(POD_SELECTOR), **spec)


@st.composite
def pod_st(draw: st.DrawFn, index: int, namespace: str | None = None) -> Any:
    ips = [f"10.1.0.{index + 1}"]
    if draw(st.booleans()):
        ips.append(f"fd01::{index + 1}")
    names = draw(st.lists(st.sampled_from(sorted(PORT_CHOICES)), unique=True, max_size=2))
    ports = []
    for name in names:
        number, protocol = draw(st.sampled_from(PORT_CHOICES[name]))
        ports.append({"name": name, "containerPort": number, "protocol": protocol})
    return make_pod(
        f"p{index}",
        draw(st.sampled_from(sorted(NODES))),
        ips,
        namespace or draw(st.sampled_from(NAMESPACES)),
        draw(labels_st),
        f"if{index}",
        ports,
    )


@st.composite
def cluster_st(draw: st.DrawFn) -> list[Any]:
    objs: list[Any] = [make_node(n, list(a), uplink="up0") for n, a in NODES.items()]
    objs += [make_namespace(ns, draw(ns_labels_st)) for ns in NAMESPACES]
    objs += [draw(pod_st(i)) for i in range(draw(st.integers(2, 6)))]
    objs += [draw(policy_st(f"pol{i}")) for i in range(draw(st.integers(1, 4)))]
    return objs


def compiled_world(objs: list[Any]) -> tuple[Any, RefCluster]:
    compiler = PolicyCompiler()
    for obj in objs:
        compiler.apply(IntentChange(obj.ref, obj))
    compiler.drain()
    compiled = {node: compiler.objects(node) for node in NODES}
    return build_dataplane(compiled, objs), RefCluster.from_intent(objs)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cluster_st())
def test_compiled_acls_agree_with_reference(objs: list[Any]) -> None:
    dataplane, reference = compiled_world(objs)
    pod_ips = [ip for o in objs if o.kind == "Pod" for ip in o.spec.podIPs]
    addresses = pod_ips + OUTSIDERS
    disagreements = []
    for src in addresses:
        for dst in pod_ips + OUTSIDERS[:5]:
            if ipaddress.ip_address(src).version != ipaddress.ip_address(dst).version:
                continue
            if src in OUTSIDERS and dst in OUTSIDERS:
                continue
            for p, protocol in PROBES:
                got = dataplane.connects(src, dst, protocol, p)
                want = reference.allowed(src, dst, protocol, p)
                if got != want:
                    disagreements.append((src, dst, protocol, p, got, want))
    assert disagreements == []
