"""Shape, sharing and placement of the compiled ACLs."""

from __future__ import annotations

from typing import Any

from switchyard_api.compiler.part import IntentChange
from switchyard_api.compiler.policy import PolicyCompiler
from switchyard_api.compiler.policy.acl import PERMIT_ALL_ACL, REFLECT_ALL_ACL
from switchyard_contract.nodeconfig import Acl, AclBinding, NodeObject

from .acl_eval import build_dataplane
from .factories import make_namespace, make_network_policy, make_node, make_pod

NODE = make_node("k1", ["10.0.0.1", "fd00::1"], uplink="eth0")


def compile_all(*objs: Any) -> PolicyCompiler:
    compiler = PolicyCompiler()
    for obj in objs:
        compiler.apply(IntentChange(obj.ref, obj))
    return compiler


def acls(objects: Any) -> dict[str, Acl]:
    return {o.name: o for o in objects.values() if isinstance(o, Acl)}


def binding(objects: Any, interface: str) -> AclBinding:
    found = objects[f"acl-binding/{interface}"]
    assert isinstance(found, AclBinding)
    return found


def web(i: int, **kw: Any) -> Any:
    return make_pod(
        f"web{i}",
        "k1",
        [f"10.1.0.{i + 1}", f"fd01::{i + 1}"],
        "shop",
        {"app": "web"},
        f"tap{i}",
        **kw,
    )


ALLOW_FROM_DB = make_network_policy(
    "web",
    "shop",
    {"matchLabels": {"app": "web"}},
    ingress=[
        {"from": [{"podSelector": {"matchLabels": {"app": "db"}}}], "ports": [{"port": 5432}]}
    ],
)
DB = make_pod("db", "k1", ["10.1.1.1"], "shop", {"app": "db"}, "tapdb")


def test_pods_with_identical_effective_policy_share_one_acl() -> None:
    pods = [web(i) for i in range(20)]
    objects = compile_all(NODE, make_namespace("shop"), DB, ALLOW_FROM_DB, *pods).objects("k1")
    lists = [binding(objects, f"tap{i}").output_acls for i in range(20)]
    inputs = {binding(objects, f"tap{i}").input_acls for i in range(20)}
    # Each list: the pod's own small self-access ACL, then the one shared policy ACL.
    assert all(len(names) == 2 for names in lists)
    shared = {names[1] for names in lists}
    own = {names[0] for names in lists}
    assert len(shared) == 1 and len(own) == 20 and inputs == {(REFLECT_ALL_ACL.name,)}
    # the shared ingress ACL, 20 self ACLs, the shared reflect-all and the uplink's permit-all
    assert set(acls(objects)) == {*shared, *own, REFLECT_ALL_ACL.name, PERMIT_ALL_ACL.name}
    assert "acl-binding/tapdb" not in objects  # unselected: no binding, VPP permits


def test_named_ports_share_only_between_pods_resolving_them_alike() -> None:
    policy = make_network_policy("named", "shop", {}, ingress=[{"ports": [{"port": "http"}]}])
    pods = [
        web(i, ports=[{"name": "http", "containerPort": 80 if i < 2 else 8080}]) for i in range(4)
    ]
    objects = compile_all(NODE, policy, *pods).objects("k1")
    names = [binding(objects, f"tap{i}").output_acls[-1] for i in range(4)]  # the policy ACL
    assert names[0] == names[1] != names[2] == names[3]


def test_acl_shape_reflect_permits_then_deny_per_family() -> None:
    objects = compile_all(NODE, DB, ALLOW_FROM_DB, web(0)).objects("k1")
    ingress = acls(objects)[binding(objects, "tap0").output_acls[-1]]
    *permits, deny4, deny6 = ingress.rules
    assert (deny4.action, deny4.src_prefix, deny4.proto) == (0, "0.0.0.0/0", 0)
    assert (deny6.action, deny6.src_prefix, deny6.proto) == (0, "::/0", 0)
    assert {(r.action, r.src_prefix, r.dst_prefix, r.proto, r.dst_port_first) for r in permits} == {
        (2, "10.1.1.1/32", "0.0.0.0/0", 6, 5432),  # the db pod, TCP 5432
        (2, "10.0.0.1/32", "0.0.0.0/0", 0, 0),  # the pod's own node (kubelet probes)
        (2, "fd00::1/128", "::/0", 0, 0),
        (1, "::/0", "::/0", 58, 0),  # ICMPv6 RS/RA/NS/NA (types 133-136 in the port fields)
    }


def test_egress_acl_is_on_input_with_src_any() -> None:
    policy = make_network_policy(
        "out",
        "shop",
        {"matchLabels": {"app": "web"}},
        policyTypes=["Egress"],
        egress=[
            {
                "to": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}],
                "ports": [{"port": 443}],
            }
        ],
    )
    objects = compile_all(NODE, policy, web(0)).objects("k1")
    bound = binding(objects, "tap0")
    assert bound.output_acls == (REFLECT_ALL_ACL.name,)  # replies to inbound flows get back out
    egress = acls(objects)[bound.input_acls[-1]]
    permits = {r.dst_prefix for r in egress.rules if r.action == 2}
    # 10.0.0.0/8 minus 10.1.0.0/16, as disjoint prefixes (no deny that could shadow a permit)
    assert permits == {
        "10.0.0.0/16",
        "10.2.0.0/15",
        "10.4.0.0/14",
        "10.8.0.0/13",
        "10.16.0.0/12",
        "10.32.0.0/11",
        "10.64.0.0/10",
        "10.128.0.0/9",
    }
    assert all(r.src_prefix in ("0.0.0.0/0", "::/0") for r in egress.rules)


def test_allow_all_ingress_is_the_reflect_all_acl() -> None:
    policy = make_network_policy("all", "shop", {}, ingress=[{}])
    objects = compile_all(NODE, policy, web(0)).objects("k1")
    assert binding(objects, "tap0").output_acls == (REFLECT_ALL_ACL.name,)


def test_uplink_gets_the_global_permit_all_on_output() -> None:
    compiler = compile_all(NODE)
    compiler.drain()
    objects = compiler.objects("k1")
    assert binding(objects, "eth0") == AclBinding("eth0", (), (PERMIT_ALL_ACL.name,))
    assert all(r.action == 1 and r.proto == 0 for r in PERMIT_ALL_ACL.rules)
    moved = make_node("k1", ["10.0.0.1"], uplink="eth1")
    compiler.apply(IntentChange(moved.ref, moved))
    delta = compiler.drain()["k1"]
    assert delta.removals == {"acl-binding/eth0"} and set(delta.upserts) >= {"acl-binding/eth1"}


def test_pod_without_interface_gets_no_binding_but_an_error() -> None:
    bare = make_pod("web0", "k1", ["10.1.0.1"], "shop", {"app": "web"})
    compiler = compile_all(NODE, ALLOW_FROM_DB, bare)
    assert [k for k in compiler.objects("k1") if k.startswith("acl-binding/")] == [
        "acl-binding/eth0"
    ]
    [error] = compiler.errors()
    assert str(error.ref) == "Pod/shop/web0" and "no interface" in error.message
    compiler.apply(IntentChange(web(0).ref, web(0)))
    assert compiler.errors() == [] and "acl-binding/tap0" in compiler.objects("k1")


def test_interface_claimed_twice_is_an_error_and_deterministic() -> None:
    twin = make_pod("other", "k1", ["10.1.0.9"], "shop", {"app": "web"}, "tap0")
    first = compile_all(NODE, ALLOW_FROM_DB, web(0), twin)
    second = compile_all(twin, web(0), ALLOW_FROM_DB, NODE)
    assert dict(first.objects("k1")) == dict(second.objects("k1"))
    [error] = first.errors()
    assert str(error.ref) == "Pod/shop/web0" and "tap0" in error.message


def test_acl_names_are_content_hashes() -> None:
    a = compile_all(NODE, DB, ALLOW_FROM_DB, web(0)).objects("k1")
    b = compile_all(web(0), ALLOW_FROM_DB, DB, NODE).objects("k1")
    assert set(acls(a)) == set(acls(b))
    shared = compile_all(web(3), ALLOW_FROM_DB, DB, NODE).objects("k1")
    assert binding(a, "tap0").output_acls[-1] == binding(shared, "tap3").output_acls[-1]
    other_db = make_pod("db", "k1", ["10.1.1.2"], "shop", {"app": "db"}, "tapdb")
    c = compile_all(NODE, other_db, ALLOW_FROM_DB, web(0)).objects("k1")
    assert set(acls(a)) != set(acls(c))


def test_own_node_may_probe_an_isolated_pod_other_nodes_may_not() -> None:
    deny = make_network_policy("deny", "shop", {}, policyTypes=["Ingress", "Egress"])
    other = make_node("k2", ["10.0.0.2"], uplink="eth0")
    intent: list[Any] = [NODE, other, deny, web(0)]
    compiler = compile_all(*intent)
    compiled: dict[str, Any] = {n: compiler.objects(n) for n in ("k1", "k2")}
    dataplane = build_dataplane(compiled, intent)
    assert dataplane.connects("10.0.0.1", "10.1.0.1", "TCP", 8080)  # kubelet on k1
    assert not dataplane.connects("10.0.0.2", "10.1.0.1", "TCP", 8080)
    assert not dataplane.connects("10.1.0.1", "10.0.0.1", "TCP", 10250)  # egress is isolated


def test_objects_are_keyed_as_the_contract_says() -> None:
    objects: dict[str, NodeObject] = dict(
        compile_all(NODE, DB, ALLOW_FROM_DB, web(0)).objects("k1")
    )
    assert all(key == obj.key for key, obj in objects.items())
    assert all(len(a.name) <= 64 for a in acls(objects).values())  # fits VPP's ACL tag


def test_sctp_ports_cannot_be_enforced_by_vpp_and_are_reported() -> None:
    with_port = make_network_policy(
        "sctp", "shop", {}, ingress=[{"ports": [{"protocol": "SCTP", "port": 3868}]}]
    )
    any_port = make_network_policy(
        "sctp-any", "shop", {}, ingress=[{"ports": [{"protocol": "SCTP"}]}]
    )
    intent: list[Any] = [NODE, web(0)]
    for policy, reachable in ((with_port, False), (any_port, True)):
        compiler = compile_all(*intent, policy)
        dataplane = build_dataplane({"k1": compiler.objects("k1")}, [*intent, policy])
        assert dataplane.connects("192.0.2.1", "10.1.0.1", "SCTP", 3868) is reachable
        assert bool(compiler.errors()) is not reachable
