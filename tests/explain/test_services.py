"""Service flows: explain names the cnat translation that matches on the entry node, its
backends with their nodes, affinity and the chosen set; Local traffic policies; a service
without serving endpoints; bad requests."""

from __future__ import annotations

from typing import Any

import pytest

from switchyard_api.errors import ApiError
from switchyard_api.explain.flow import explain_flow
from switchyard_api.explain.request import FlowRequest
from tests.compiler.factories import endpoint, make_endpoints, make_network_policy, make_service
from tests.compiler.test_policy_truthtable import VIP4, ip4

from .cluster import compile_cluster, explain

N1, N2 = "10.0.0.1", "10.0.0.2"  # node addresses of the truth-table cluster


def web(**spec: Any) -> list[Any]:
    """NodePort z/web (port 80 -> 80, nodePort 30080) backed by z/a (on n1) and z/b (on n2)."""
    service = make_service(
        "web",
        ["10.96.0.20"],
        [{"port": 80, "nodePort": 30080}],
        namespace="z",
        type="NodePort",
        **spec,
    )
    slice_ = make_endpoints(
        "web",
        [endpoint(ip4("z", "a"), node="n1", pod="a"), endpoint(ip4("z", "b"), node="n2", pod="b")],
        namespace="z",
    )
    return [service, slice_]


def test_a_cluster_ip_flow_names_the_translation_backends_and_their_nodes() -> None:
    compiler, _ = compile_cluster(web(sessionAffinity="ClientIP"))
    result = explain(
        compiler, {"from": {"pod": "x/a"}, "to": {"service": "z/web", "port": 80}, "port": 80}
    )
    assert result.entryNode == "n1"  # x/a lives on n1: cnat-input of its interface translates
    translation = result.translation
    assert translation is not None
    assert translation.key == "frontend/TCP/10.96.0.20/80"
    assert translation.service == "z/web"
    assert translation.affinity == "ClientIP (10800 s)"
    assert not translation.localOnly
    assert [(b.pod, b.node, b.chosen) for b in translation.backends] == [
        ("z/a", "n1", True),
        ("z/b", "n2", True),
    ]
    assert [(p.destination.pod, p.verdict) for p in result.paths] == [
        ("z/a", "allowed"),
        ("z/b", "allowed"),
    ]
    # to z/b on n2: x/a's input, n1's uplink out, n2's uplink in, z/b's output
    steps = result.paths[1].steps
    assert [(s.node, s.interface, s.direction) for s in steps] == [
        ("n1", "tap-x-a", "input"),
        ("n1", "uplink0", "output"),
        ("n2", "uplink0", "input"),
        ("n2", "tap-z-b", "output"),
    ]
    # every ACL sees the backend (post-DNAT), never the cluster IP
    assert all(ip4("z", "b") + ":80" in s.packet for s in steps)


def test_external_traffic_policy_local_translates_to_the_entry_nodes_endpoints_only() -> None:
    compiler, _ = compile_cluster(web(externalTrafficPolicy="Local"))
    outside = {"ip": "192.0.2.50"}
    on_n1 = explain(compiler, {"from": {**outside, "node": "n1"}, "to": {"ip": N1}, "port": 30080})
    assert on_n1.translation is not None and on_n1.translation.kind == "nodePort"
    assert on_n1.translation.localOnly
    assert [b.pod for b in on_n1.translation.backends] == ["z/a"]
    assert on_n1.verdict == "allowed"
    on_n2 = explain(compiler, {"from": {**outside, "node": "n2"}, "to": {"ip": N2}, "port": 30080})
    assert on_n2.translation is not None
    assert [b.pod for b in on_n2.translation.backends] == ["z/b"]


def test_local_policy_without_an_endpoint_on_the_entry_node_has_no_translation() -> None:
    service = make_service(
        "one",
        ["10.96.0.30"],
        [{"port": 80, "nodePort": 30081}],
        namespace="z",
        type="NodePort",
        externalTrafficPolicy="Local",
    )
    slice_ = make_endpoints("one", [endpoint(ip4("z", "a"), node="n1", pod="a")], namespace="z")
    compiler, _ = compile_cluster([service, slice_])
    result = explain(
        compiler, {"from": {"ip": "192.0.2.50", "node": "n2"}, "to": {"ip": N2}, "port": 30081}
    )
    assert result.translation is None
    assert result.noTranslation == (
        "no translation on node n2: externalTrafficPolicy Local and no serving endpoint of "
        "z/one on that node"
    )
    assert result.verdict == "denied" and result.paths == []


def test_a_service_without_serving_endpoints_has_no_translation() -> None:
    service = make_service("empty", ["10.96.0.40"], [{"port": 80}], namespace="z")
    slice_ = make_endpoints("empty", [endpoint(ip4("z", "a"), ready=False)], namespace="z")
    compiler, _ = compile_cluster([service, slice_])
    by_name = explain(
        compiler, {"from": {"pod": "x/a"}, "to": {"service": "z/empty", "port": 80}, "port": 80}
    )
    by_ip = explain(compiler, {"from": {"pod": "x/a"}, "to": {"ip": "10.96.0.40"}, "port": 80})
    for result in (by_name, by_ip):
        assert result.translation is None
        assert result.noTranslation == "no translation: no serving endpoints of z/empty"
        assert result.verdict == "denied"


def test_a_denied_service_flow_names_the_backend_and_the_isolating_policy() -> None:
    deny = make_network_policy("deny-all", "z", {}, policyTypes=["Ingress"])
    compiler, _ = compile_cluster([*web(), deny])
    result = explain(
        compiler, {"from": {"pod": "x/a"}, "to": {"service": "z/web", "port": 80}, "port": 80}
    )
    assert result.verdict == "denied"
    last = result.paths[0].steps[-1]
    assert (last.interface, last.direction, last.passed) == ("tap-z-a", "output", False)
    assert last.policies == ["z/deny-all"]
    assert last.intent.startswith("default deny because policies z/deny-all select pod z/a")


def test_an_allowed_flow_names_the_policy_and_rule_index() -> None:
    allow = make_network_policy(
        "web-in",
        "z",
        {"matchLabels": {"pod": "a"}},
        ingress=[
            {"from": [{"podSelector": {"matchLabels": {"pod": "b"}}}]},
            {"from": [{"namespaceSelector": {}}], "ports": [{"port": 80}]},
        ],
    )
    compiler, _ = compile_cluster([allow])
    result = explain(compiler, {"from": {"pod": "x/a"}, "to": {"pod": "z/a"}, "port": 80})
    step = result.paths[0].steps[-1]
    assert result.verdict == "allowed"
    assert (step.policies, step.ruleIndices) == (["z/web-in"], [1])
    assert step.intent == "NetworkPolicy z/web-in ingress rule 1"
    assert step.action == "permit+reflect" and step.rule is not None
    # the reply passes through the reflect session that rule created
    assert any(s.action == "reflect-session" for s in result.paths[0].reply)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"from": {"pod": "x/nope"}, "to": {"pod": "x/a"}, "port": 80}, "from.pod"),
        (
            {"from": {"pod": "x/a"}, "to": {"service": "z/none", "port": 80}, "port": 80},
            "to.service",
        ),
        ({"from": {"pod": "x/a"}, "to": {"service": "z/svc", "port": 9}, "port": 9}, "to.port"),
        ({"from": {"ip": "192.0.2.9"}, "to": {"service": "z/svc", "port": 8080}}, "from.node"),
        ({"from": {"ip": "192.0.2.9", "node": "n9"}, "to": {"ip": VIP4}, "port": 1}, "from.node"),
        ({"from": {"ip": "192.0.2.9"}, "to": {"ip": "fd00::9"}, "port": 1}, "to"),
    ],
)
def test_bad_requests_name_the_field(body: dict[str, Any], field: str) -> None:
    compiler, _ = compile_cluster([])
    with pytest.raises(ApiError) as caught:
        explain_flow(compiler, FlowRequest.model_validate(body))
    assert caught.value.status == 422
    assert [e.field for e in caught.value.errors] == [field]
