"""Incremental equals full for the policy part: after random change sequences (with drains
in between), replaying the drained deltas gives exactly what a from-scratch PolicyCompiler
produces, every delta is meaningful (no no-op upserts, no removal of absent keys), and no ACL
dangles or leaks."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from switchyard_api.compiler.part import IntentChange
from switchyard_api.compiler.policy import PolicyCompiler
from switchyard_api.compiler.policy.model import PodInfo
from switchyard_api.compiler.policy.selection import Selection
from switchyard_api.resources.intent import ObjectRef
from switchyard_contract.nodeconfig import Acl, AclBinding, NodeObject

from .factories import make_namespace, make_network_policy, make_node, make_pod
from .test_policy_properties import NAMESPACES, labels_st, ns_labels_st, policy_st

NODE_NAMES = ("k1", "k2")
ADDRESSES = (["10.0.0.1"], ["10.0.0.1", "fd00::1"], ["10.0.0.9"])


@st.composite
def pod_change_st(draw: st.DrawFn, index: int | None = None) -> Any:
    if index is None:
        index = draw(st.integers(0, 3))
    ips = [f"10.1.0.{index + 1 + draw(st.sampled_from([0, 50]))}"]
    if draw(st.booleans()):
        ips.append(f"fd01::{index + 1}")
    ports = draw(
        st.sampled_from(
            [
                [],
                [{"name": "http", "containerPort": 80}],
                [{"name": "http", "containerPort": 81}],
                [{"name": "dns", "containerPort": 53, "protocol": "UDP"}],
            ]
        )
    )
    return make_pod(
        f"p{index}",
        draw(st.sampled_from(NODE_NAMES)),
        ips,
        draw(st.sampled_from(NAMESPACES[:2])),
        draw(labels_st),
        # mostly its own interface; sometimes none, or one that collides (another pod's, uplink)
        draw(st.sampled_from([f"if{index}"] * 4 + ["if0", "up0", ""])),
        ports,
    )


@st.composite
def change_st(draw: st.DrawFn) -> tuple[str, Any]:
    """("upsert", obj) | ("delete", ref) | ("drain", None)."""
    kind = draw(st.sampled_from(["pod"] * 4 + ["policy", "ns", "node", "drain"] * 2))
    if kind == "drain":
        return ("drain", None)
    if kind == "pod":
        obj = draw(pod_change_st())
    elif kind == "policy":
        obj = draw(policy_st(f"pol{draw(st.integers(0, 2))}", NAMESPACES[:2]))
    elif kind == "ns":
        obj = make_namespace(draw(st.sampled_from(NAMESPACES)), draw(ns_labels_st))
    else:
        obj = make_node(
            draw(st.sampled_from(NODE_NAMES)),
            draw(st.sampled_from(ADDRESSES)),
            uplink=draw(st.sampled_from(["up0", "up1", ""])),
        )
    if draw(st.integers(0, 6)) == 0:
        return ("delete", obj.ref)
    return ("upsert", obj)


def replay(shadow: dict[str, dict[str, NodeObject]], compiler: PolicyCompiler) -> None:
    for node, delta in compiler.drain().items():
        current = shadow.setdefault(node, {})
        assert delta.upserts or delta.removals, "empty delta reported"
        for key in delta.removals:
            assert key in current, f"removal of absent {key}"
            del current[key]
        for key, value in delta.upserts.items():
            assert current.get(key) != value, f"no-op upsert of {key}"
            assert key == value.key
            current[key] = value
        if not current:
            del shadow[node]


def check_consistent(objects: dict[str, NodeObject]) -> None:
    """Every referenced ACL exists and every ACL is referenced (garbage collected)."""
    referenced = {
        name
        for obj in objects.values()
        if isinstance(obj, AclBinding)
        for name in obj.input_acls + obj.output_acls
    }
    acls = {obj.name for obj in objects.values() if isinstance(obj, Acl)}
    assert referenced == acls


def full_compile(state: dict[ObjectRef, Any], reverse: bool = False) -> PolicyCompiler:
    compiler = PolicyCompiler()
    for obj in sorted(state.values(), key=lambda o: str(o.ref), reverse=reverse):
        compiler.apply(IntentChange(obj.ref, obj))
    return compiler


def compare(
    shadow: dict[str, dict[str, NodeObject]], compiler: PolicyCompiler, state: dict[ObjectRef, Any]
) -> None:
    fresh = full_compile(state, reverse=True)
    for node in set(NODE_NAMES) | set(shadow):
        expected = dict(fresh.objects(node))
        assert shadow.get(node, {}) == expected, node
        assert dict(compiler.objects(node)) == expected, node
        check_consistent(expected)
    assert compiler.errors() == fresh.errors()


def run_and_compare(changes: list[tuple[str, Any]]) -> PolicyCompiler:
    """Apply `changes` ("upsert" obj / "delete" ref / "drain"); at every drain and at the end,
    the replayed deltas must equal a from-scratch compile of the state at that point."""
    compiler = PolicyCompiler()
    state: dict[ObjectRef, Any] = {}
    shadow: dict[str, dict[str, NodeObject]] = {}
    for action, payload in [*changes, ("drain", None)]:
        if action == "drain":
            replay(shadow, compiler)
            compare(shadow, compiler, state)
        elif action == "upsert":
            state[payload.ref] = payload
            compiler.apply(IntentChange(payload.ref, payload))
        else:
            state.pop(payload, None)
            compiler.apply(IntentChange(payload, None))
    # Nothing left to drain once caught up; compiles in other orders are identical.
    assert compiler.drain() == {}
    other = full_compile(state)
    assert {n: dict(other.objects(n)) for n in NODE_NAMES} == {
        n: dict(compiler.objects(n)) for n in NODE_NAMES
    }
    return compiler


@st.composite
def populated_st(draw: st.DrawFn) -> list[tuple[str, Any]]:
    """A populated cluster first (so that changes have something to touch), then changes."""
    objs: list[Any] = [
        make_node(n, ["10.0.0.1"] if n == "k1" else ["10.0.0.2"], uplink="up0") for n in NODE_NAMES
    ]
    objs += [make_namespace(ns, draw(ns_labels_st)) for ns in NAMESPACES[:2]]
    objs += [draw(pod_change_st(i)) for i in range(4)]
    objs += [draw(policy_st(f"pol{i}", NAMESPACES[:2])) for i in range(draw(st.integers(1, 2)))]
    start = [("upsert", o) for o in objs] + [("drain", None)]
    return start + draw(st.lists(change_st(), min_size=1, max_size=12))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(populated_st())
def test_incremental_equals_full(changes: list[tuple[str, Any]]) -> None:
    run_and_compare(changes)


# -- targeted invalidation paths (each would be a stale-ACL bug if missed) -------------------

BASE: list[Any] = [
    make_node("k1", ["10.0.0.1"], uplink="up0"),
    make_node("k2", ["10.0.0.2"], uplink="up0"),
    make_namespace("n0", {"team": "red"}),
    make_namespace("n1", {}),
    make_pod(
        "srv",
        "k1",
        ["10.1.0.1"],
        "n0",
        {"app": "web"},
        "if0",
        [{"name": "http", "containerPort": 80}],
    ),
    make_pod(
        "cli",
        "k2",
        ["10.1.0.2"],
        "n1",
        {"app": "db"},
        "if1",
        [{"name": "http", "containerPort": 8080}],
    ),
]


def _steps(*objs: Any) -> list[tuple[str, Any]]:
    return [("upsert", o) for o in objs]


def test_namespace_label_change_updates_namespace_selector_peers() -> None:
    policy = make_network_policy(
        "p",
        "n0",
        {},
        ingress=[{"from": [{"namespaceSelector": {"matchLabels": {"team": "blue"}}}]}],
    )
    compiler = run_and_compare(
        [*_steps(*BASE, policy), ("drain", None), *_steps(make_namespace("n1", {"team": "blue"}))]
    )
    out_acl = compiler.objects("k1")["acl-binding/if0"].output_acls[-1]  # type: ignore[union-attr]
    rules = compiler.objects("k1")[f"acl/{out_acl}"].rules  # type: ignore[union-attr]
    assert any(r.src_prefix == "10.1.0.2/32" for r in rules)


def test_node_address_change_updates_own_node_permit() -> None:
    policy = make_network_policy("p", "n0", {}, policyTypes=["Ingress"])
    run_and_compare(
        [
            *_steps(*BASE, policy),
            ("drain", None),
            *_steps(make_node("k1", ["10.0.0.9"], uplink="up0")),
        ]
    )


def test_peer_ip_and_named_port_changes() -> None:
    policy = make_network_policy(
        "p",
        "n0",
        {},
        egress=[
            {
                "to": [{"namespaceSelector": {}, "podSelector": {"matchLabels": {"app": "db"}}}],
                "ports": [{"port": "http"}],
            },
            {"ports": [{"port": "http"}]},  # empty `to`: every pod with an "http" port
        ],
    )
    moved = make_pod(
        "cli",
        "k2",
        ["10.1.0.7"],
        "n1",
        {"app": "db"},
        "if1",
        [{"name": "http", "containerPort": 9090}],
    )
    newcomer = make_pod(
        "late", "k2", ["10.1.0.8"], "n1", {}, "if2", [{"name": "http", "containerPort": 7070}]
    )
    run_and_compare(
        [
            *_steps(*BASE, policy),
            ("drain", None),
            *_steps(moved),
            ("drain", None),
            *_steps(newcomer),
        ]
    )


def test_pod_moves_node_and_policy_deleted_garbage_collects() -> None:
    policy = make_network_policy("p", "n0", {}, policyTypes=["Ingress", "Egress"])
    moved = make_pod("srv", "k2", ["10.1.0.1"], "n0", {"app": "web"}, "if5")
    compiler = run_and_compare(
        [
            *_steps(*BASE, policy),
            ("drain", None),
            *_steps(moved),
            ("drain", None),
            ("delete", policy.ref),
        ]
    )
    for node in NODE_NAMES:  # only the uplink's binding and its ACL remain
        assert sorted(k.split("/")[0] for k in compiler.objects(node)) == ["acl", "acl-binding"]


def test_irrelevant_label_change_touches_nothing() -> None:
    policy = make_network_policy(
        "p",
        "n0",
        {"matchLabels": {"app": "web"}},
        ingress=[{"from": [{"podSelector": {"matchLabels": {"app": "db"}}}]}],
    )
    compiler = PolicyCompiler()
    for obj in [*BASE, policy]:
        compiler.apply(IntentChange(obj.ref, obj))
    compiler.drain()
    relabel = make_pod(
        "cli",
        "k2",
        ["10.1.0.2"],
        "n1",
        {"app": "db", "extra": "x"},
        "if1",
        [{"name": "http", "containerPort": 8080}],
    )
    compiler.apply(IntentChange(relabel.ref, relabel))
    assert compiler.drain() == {}


def test_label_change_recomputes_only_pods_of_affected_policies() -> None:
    """White-box: Selection reports as dirty only the changed pod and the pods selected by the
    policies whose peer sets it joined or left - not the rest of the cluster."""

    def info(obj: Any) -> PodInfo:
        return PodInfo.from_spec(obj.namespace, obj.name, obj.labels, obj.spec)

    selection = Selection()
    for i in range(50):  # bystanders in another namespace, under their own policy
        pod = make_pod(f"b{i}", "k1", [f"10.2.0.{i + 1}"], "n1", {"app": "web"}, f"b{i}")
        selection.set_pod(("n1", pod.name), info(pod))
    selection.set_policy(("n1", "other"), make_network_policy("other", "n1", {}).spec)
    for pod in (
        make_pod("srv", "k1", ["10.1.0.1"], "n0", {"app": "web"}),
        make_pod("cli", "k1", ["10.1.0.2"], "n0", {"app": "x"}),
    ):
        selection.set_pod(("n0", pod.name), info(pod))
    spec = make_network_policy(
        "p",
        "n0",
        {"matchLabels": {"app": "web"}},
        ingress=[{"from": [{"podSelector": {"matchLabels": {"app": "db"}}}]}],
    ).spec
    selection.set_policy(("n0", "p"), spec)
    joined = make_pod("cli", "k1", ["10.1.0.2"], "n0", {"app": "db"})
    assert selection.set_pod(("n0", "cli"), info(joined)) == {("n0", "cli"), ("n0", "srv")}
    relabeled = make_pod("cli", "k1", ["10.1.0.2"], "n0", {"app": "db", "x": "y"})
    assert selection.set_pod(("n0", "cli"), info(relabeled)) == {("n0", "cli")}
