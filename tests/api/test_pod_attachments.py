"""Pod attachments as agents report them: kept per node, full reports forget the node's stale
ones, other nodes' pods never take them, and a Pod created later picks its report up."""

from __future__ import annotations

from switchyard.v1 import distribution_pb2 as dpb
from switchyard_api.store.attachments import (
    ReportedAttachment,
    acceptable,
    attachments_by_pod,
    record_report,
)
from switchyard_api.store.store import IntentStore

from .support import api_client, seed_namespace

NS = "/v1/namespaces/team-a"


def report(pod: str, container: str, interface: str, detached: bool = False) -> ReportedAttachment:
    return ReportedAttachment("team-a", pod, container, interface, ("10.1.1.5",), "tap", detached)


def test_reports_are_kept_per_node_and_shown_on_the_pod(database_url: str) -> None:
    with api_client(database_url) as client:
        seed_namespace(client)
        for node in ("n1", "n2"):
            spec = {"spec": {"addresses": ["192.0.2.1"], "podCIDRs": ["10.1.1.0/24"]}}
            client.put(f"/v1/nodes/{node}", json=spec).raise_for_status()
        store: IntentStore = client.app.state.store  # type: ignore[attr-defined]
        # Before the pod exists: kept, and no pod is written.
        assert record_report(store, "n1", [report("web", "c1", "tap1")], full=False) == 1
        assert client.get(f"{NS}/pods/web").status_code == 404
        created = client.put(f"{NS}/pods/web", json={"spec": {"nodeName": "n1"}})
        assert created.status_code == 201
        status = client.get(f"{NS}/pods/web").json()["status"]
        assert status["attachment"] == {
            "node": "n1",
            "containerID": "c1",
            "interface": "tap1",
            "ips": ["10.1.1.5"],
            "mode": "tap",
        }
        version = created.json()["metadata"]["resourceVersion"]

        # Another node reporting the same pod name: not this pod's (it runs on n1).
        record_report(store, "n2", [report("web", "c9", "tap7")], full=False)
        shown = client.get(f"{NS}/pods/web").json()
        assert shown["status"]["attachment"]["interface"] == "tap1"

        # A full report from n1 without c1: forgotten; the pod is written again (new version).
        record_report(store, "n1", [], full=True)
        after = client.get(f"{NS}/pods/web").json()
        assert "attachment" not in after["status"] or after["status"]["attachment"] is None
        assert after["metadata"]["resourceVersion"] != version
        assert set(attachments_by_pod(store)) == {("team-a", "web")}  # n2's is kept

        # Detached: gone; detaching something unknown changes nothing.
        record_report(store, "n2", [report("web", "c9", "", detached=True)], full=False)
        assert attachments_by_pod(store) == {}
        assert record_report(store, "n2", [report("web", "c9", "", detached=True)], False) == 0


def test_malformed_reports_are_not_acceptable() -> None:
    good = dpb.PodAttachment(namespace="a", pod="p", container_id="c", interface="tap1", mode="tap")
    assert acceptable(good)
    for bad in (
        dpb.PodAttachment(namespace="", pod="p", container_id="c", interface="tap1"),
        dpb.PodAttachment(namespace="a", pod="p", container_id="c", interface=""),
        dpb.PodAttachment(namespace="a" * 64, pod="p", container_id="c", interface="tap1"),
        dpb.PodAttachment(namespace="a", pod="p", container_id="c", interface="x" * 65),
        dpb.PodAttachment(namespace="a", pod="p", container_id="c", interface="t", mode="veth"),
    ):
        assert not acceptable(bad)
    detached = dpb.PodAttachment(namespace="a", pod="p", container_id="c", detached=True)
    assert acceptable(detached)
