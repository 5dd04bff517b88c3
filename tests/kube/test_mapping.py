"""Kubernetes JSON to Switchyard documents: the cases the sample cluster does not show."""

from __future__ import annotations

from typing import Any

from switchyard_kube import endpoints, mapping, plan
from switchyard_kube.objects import DIGEST_ANNOTATION, MANAGED_BY_LABEL, Key
from tests.kube import sample


def test_pods_switchyard_does_not_carry_are_skipped() -> None:
    running = sample.pod("a", "shop", "node-1", "10.244.1.5", "web")
    assert mapping.pod(running) is not None
    host = sample.pod("b", "shop", "node-1", "192.0.2.11", "web", host_network=True)
    assert mapping.pod(host) is None
    finished = sample.pod("c", "shop", "node-1", "10.244.1.6", "web")
    finished["status"]["phase"] = "Succeeded"
    assert mapping.pod(finished) is None
    pending = sample.pod("d", "shop", "node-1", "10.244.1.7", "web")
    del pending["spec"]["nodeName"]
    assert mapping.pod(pending) is None


def test_services_switchyard_does_not_proxy_are_skipped() -> None:
    headless = sample.service("cart")
    headless["spec"].update(clusterIP="None", clusterIPs=["None"])
    assert mapping.service(headless) is None
    external = sample.service("cart")
    external["spec"] = {"type": "ExternalName", "externalName": "db.example.org"}
    assert mapping.service(external) is None


def test_service_fields_follow_the_type() -> None:
    cluster_ip = sample.service("cart")
    cluster_ip["spec"]["ports"][0]["nodePort"] = 30001  # stale from an earlier NodePort type
    mapped = mapping.service(cluster_ip)
    assert mapped is not None
    assert "nodePort" not in mapped.spec["ports"][0]
    assert mapped.spec["loadBalancerIPs"] == []
    assert "selector" not in mapped.spec
    dual = sample.service("web")
    dual["spec"]["clusterIPs"] = ["10.96.0.10", "fd00:0:0:0::10"]
    dual["spec"]["externalIPs"] = ["198.51.100.7"]
    mapped = mapping.service(dual)
    assert mapped is not None
    assert mapped.spec["clusterIPs"] == ["10.96.0.10", "fd00::10"]  # canonical, as stored
    assert mapped.spec["externalIPs"] == ["198.51.100.7"]


def test_dual_stack_slices_merge_into_one_endpoint_per_pod() -> None:
    v4 = sample.endpoint_slice("web", ["web-1", "web-2"])
    v6 = sample.endpoint_slice("web", ["web-1"])
    v6["metadata"]["name"] = "web-v6"
    v6["addressType"] = "IPv6"
    v6["endpoints"][0]["addresses"] = ["fd00::1:10"]
    merged = endpoints.merge("shop", "web", [v6, v4])
    assert merged.spec["addressType"] == "DualStack"
    by_pod = {e["targetRef"]["name"]: e["addresses"] for e in merged.spec["endpoints"]}
    assert by_pod == {"web-1": ["10.244.1.10", "fd00::1:10"], "web-2": ["10.244.2.10"]}


def test_an_address_in_two_slices_is_listed_once() -> None:
    first = sample.endpoint_slice("web", ["web-1", "web-2"])
    second = sample.endpoint_slice("web", ["web-2"])
    second["metadata"]["name"] = "web-zzz"
    merged = endpoints.merge("shop", "web", [first, second])
    assert [e["addresses"][0] for e in merged.spec["endpoints"]] == ["10.244.1.10", "10.244.2.10"]


def test_terminating_and_unknown_readiness() -> None:
    slice_obj = sample.endpoint_slice("web", ["web-1", "web-2"])
    slice_obj["endpoints"][0]["conditions"] = {"ready": False, "serving": True, "terminating": True}
    slice_obj["endpoints"][1]["conditions"] = {}  # unknown: read as ready
    conditions = [
        e["conditions"] for e in endpoints.merge("shop", "web", [slice_obj]).spec["endpoints"]
    ]
    assert conditions == [
        {"ready": False, "serving": True, "terminating": True},
        {"ready": True, "terminating": False},
    ]


def test_node_settings_from_annotations_beat_the_flags() -> None:
    node = sample.node(
        "node-1",
        "192.0.2.11",
        "10.244.1.0/24",
        annotations={"switchyard.io/bgp-asn": "65001", "switchyard.io/bgp-router-id": "192.0.2.99"},
    )
    mapped = mapping.node(node, mapping.NodeDefaults("eth9", 65010))
    assert mapped is not None
    assert mapped.spec["bgp"] == {"asn": 65001, "routerId": "192.0.2.99"}
    assert mapped.spec["uplinkInterface"] == "GigabitEthernet0/8/0"
    bare = sample.node("node-2", "192.0.2.12", "10.244.2.0/24")
    bare["metadata"]["annotations"] = {}
    mapped = mapping.node(bare, mapping.NodeDefaults("eth9", None))
    assert mapped is not None
    assert mapped.spec["uplinkInterface"] == "eth9" and "bgp" not in mapped.spec
    bare["status"]["addresses"] = [{"type": "Hostname", "address": "node-2"}]
    assert mapping.node(bare, mapping.NodeDefaults()) is None  # no address yet


def stored_copy(desired: Any, **spec_overrides: Any) -> dict[str, Any]:
    body = desired.body()
    body["metadata"]["resourceVersion"] = "7"
    body["spec"] = {**body["spec"], **spec_overrides}
    return body


def test_plan_skips_what_is_stored_and_corrects_drift() -> None:
    desired = mapping.pod(sample.pod("a", "shop", "node-1", "10.244.1.5", "web"))
    assert desired is not None
    key = desired.key
    ready = {"conditions": [{"type": "Ready", "status": "True"}]}
    same = {**stored_copy(desired, extraDefault="x"), "status": ready}  # server-added field
    assert plan.compute({key: desired}, {key: same}).writes == []
    drifted = {**stored_copy(desired, podIPs=["10.9.9.9"]), "status": ready}
    [write] = plan.compute({key: desired}, {key: drifted}).writes
    assert (write.verb, write.resource_version) == ("update", "7")
    not_ready = stored_copy(desired)
    assert [w.verb for w in plan.compute({key: desired}, {key: not_ready}).writes] == ["status"]
    edited = {**same}
    edited["metadata"] = {**same["metadata"], "annotations": {DIGEST_ANNOTATION: "other"}}
    assert [w.verb for w in plan.compute({key: desired}, {key: edited}).writes] == ["update"]


def test_plan_never_touches_unlabelled_objects() -> None:
    desired = mapping.pod(sample.pod("a", "shop", "node-1", "10.244.1.5", "web"))
    assert desired is not None
    theirs = stored_copy(desired, podIPs=["10.9.9.9"])
    del theirs["metadata"]["labels"][MANAGED_BY_LABEL]
    result = plan.compute({desired.key: desired}, {desired.key: theirs})
    assert result.writes == [] and result.not_owned == [desired]
    other = Key("Pod", "shop", "manual")
    assert plan.compute({}, {other: theirs}).writes == []  # not ours: never deleted
