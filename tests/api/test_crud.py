"""Create/read/replace/patch/delete and list of every kind, on PostgreSQL and on SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from .support import KIND_IDS, KINDS, NS, KindCase, api_client, seed_namespace


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    with api_client(database_url) as client:
        seed_namespace(client)
        yield client


def prepare(client: TestClient, case: KindCase) -> None:
    if case.kind == "EndpointSlice":
        service = next(c for c in KINDS if c.kind == "Service")
        assert client.post(service.collection, json=service.body()).status_code == 201


def user_labels(document: dict[str, Any]) -> dict[str, str]:
    labels: dict[str, str] = document["metadata"]["labels"]
    return {k: v for k, v in labels.items() if k != "kubernetes.io/metadata.name"}


def test_namespaces_carry_their_name_label(client: TestClient) -> None:
    created = client.put(
        "/v1/namespaces/prod", json={"metadata": {"labels": {"a": "b"}}, "spec": {}}
    )
    assert created.json()["metadata"]["labels"] == {"a": "b", "kubernetes.io/metadata.name": "prod"}
    selected = client.get(
        "/v1/namespaces", params={"labelSelector": "kubernetes.io/metadata.name=prod"}
    )
    assert [n["metadata"]["name"] for n in selected.json()["items"]] == ["prod"]


@pytest.mark.parametrize("case", KINDS, ids=KIND_IDS)
def test_lifecycle_of_every_kind(client: TestClient, case: KindCase) -> None:
    prepare(client, case)
    if case.kind == "EndpointSlice":
        created = client.put(case.item(), json=case.body())
    else:
        created = client.post(case.collection, json=case.body(labels={"tier": "one"}))
    assert created.status_code == 201, created.text
    document = created.json()
    assert document["kind"] == case.kind
    assert document["apiVersion"] == "switchyard.io/v1"
    version = document["metadata"]["resourceVersion"]
    assert created.headers["ETag"] == f'"{version}"'
    assert document["metadata"]["uid"]
    assert document["metadata"]["creationTimestamp"].endswith("Z")
    if case.namespaced:
        assert document["metadata"]["namespace"] == "team-a"

    read = client.get(case.item())
    assert read.status_code == 200
    status = read.json().pop("status")
    assert {k: v for k, v in read.json().items() if k != "status"} == {
        k: v for k, v in document.items() if k != "status"
    }
    if case.kind != "Node":  # convergence status: no node has processed it yet
        assert status == {
            "appliedNodes": 0,
            "totalNodes": 0,
            "failures": [],
            "compileErrors": [],
            "notAppliedNodes": [],
        }

    patched = client.patch(
        case.item(),
        json={"metadata": {"labels": {"tier": "two"}}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert patched.status_code == 200, patched.text
    assert user_labels(patched.json()) == {"tier": "two"}
    assert int(patched.json()["metadata"]["resourceVersion"]) > int(version)
    assert patched.json()["metadata"]["uid"] == document["metadata"]["uid"]

    replaced = client.put(case.item(), json=case.body(labels={"tier": "three"}))
    assert replaced.status_code == 200, replaced.text
    assert user_labels(replaced.json()) == {"tier": "three"}

    deleted = client.delete(case.item())
    assert deleted.status_code == 200
    assert client.get(case.item()).status_code == 404
    assert client.delete(case.item()).status_code == 404


@pytest.mark.parametrize("case", [c for c in KINDS if c.kind != "EndpointSlice"], ids=str)
def test_post_twice_is_409_and_changes_nothing(client: TestClient, case: KindCase) -> None:
    first = client.post(case.collection, json=case.body())
    assert first.status_code == 201
    second = client.post(case.collection, json=case.body(labels={"changed": "yes"}))
    assert second.status_code == 409
    assert second.headers["content-type"] == "application/problem+json"
    again = {k: v for k, v in client.get(case.item()).json().items() if k != "status"}
    assert again == {k: v for k, v in first.json().items() if k != "status"}


def test_put_creates_then_replaces(client: TestClient) -> None:
    body = {"spec": {"addresses": ["192.0.2.7"]}}
    assert client.put("/v1/nodes/n7", json=body).status_code == 201
    body["spec"]["addresses"] = ["192.0.2.8"]
    replaced = client.put("/v1/nodes/n7", json=body)
    assert replaced.status_code == 200
    assert replaced.json()["spec"]["addresses"] == ["192.0.2.8"]


def test_label_selector_and_pagination(client: TestClient) -> None:
    for index in range(7):
        labels = {"app": "web" if index % 2 == 0 else "db", "idx": str(index)}
        pod = {
            "metadata": {"name": f"pod-{index}", "labels": labels},
            "spec": {"nodeName": "node1", "podIPs": [f"10.1.1.{index + 1}"]},
        }
        assert client.post(f"{NS}/pods", json=pod).status_code == 201

    selected = client.get(f"{NS}/pods", params={"labelSelector": "app=web"}).json()
    assert [p["metadata"]["name"] for p in selected["items"]] == [
        "pod-0",
        "pod-2",
        "pod-4",
        "pod-6",
    ]
    assert selected["kind"] == "PodList"
    assert int(selected["metadata"]["resourceVersion"]) >= 8

    expressions = client.get(
        f"{NS}/pods", params={"labelSelector": "app in (web,db),idx notin (0,1,2),!missing"}
    ).json()
    assert [p["metadata"]["name"] for p in expressions["items"]] == [
        "pod-3",
        "pod-4",
        "pod-5",
        "pod-6",
    ]

    names: list[str] = []
    params: dict[str, str | int] = {"limit": 2, "labelSelector": "app!=db"}
    pages = 0
    while True:
        page = client.get(f"{NS}/pods", params=params).json()
        names += [p["metadata"]["name"] for p in page["items"]]
        pages += 1
        token = page["metadata"].get("continue")
        if not token:
            break
        params["continue"] = token
    assert names == ["pod-0", "pod-2", "pod-4", "pod-6"]
    assert pages == 2

    other = client.get("/v1/namespaces/elsewhere/pods").json()
    assert other["items"] == []


def test_bad_selector_and_cursor_are_422(client: TestClient) -> None:
    bad = client.get(f"{NS}/pods", params={"labelSelector": "app in (web"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "labelSelector"
    cursor = client.get(f"{NS}/pods", params={"continue": "garbage!"})
    assert cursor.status_code == 422
    assert cursor.json()["errors"][0]["field"] == "continue"


def test_etag_if_match_and_if_none_match(client: TestClient) -> None:
    created = client.post(
        "/v1/nodes", json={"metadata": {"name": "n1"}, "spec": {"addresses": ["192.0.2.1"]}}
    )
    etag = created.headers["ETag"]
    body = {"spec": {"addresses": ["192.0.2.2"]}}
    updated = client.put("/v1/nodes/n1", json=body, headers={"If-Match": etag})
    assert updated.status_code == 200
    stale = client.put("/v1/nodes/n1", json=body, headers={"If-Match": etag})
    assert stale.status_code == 412
    assert stale.headers["content-type"] == "application/problem+json"
    stale_patch = client.patch(
        "/v1/nodes/n1", json={"metadata": {"labels": {"a": "b"}}}, headers={"If-Match": etag}
    )
    assert stale_patch.status_code == 412
    stale_delete = client.delete("/v1/nodes/n1", headers={"If-Match": etag})
    assert stale_delete.status_code == 412
    assert client.get("/v1/nodes/n1").json()["spec"]["addresses"] == ["192.0.2.2"]

    create_only = client.put("/v1/nodes/n1", json=body, headers={"If-None-Match": "*"})
    assert create_only.status_code == 412
    fresh = client.put("/v1/nodes/n2", json=body, headers={"If-None-Match": "*"})
    assert fresh.status_code == 201

    body_version = client.put(
        "/v1/nodes/n1",
        json={"metadata": {"resourceVersion": etag.strip('"')}, **body},
    )
    assert body_version.status_code == 412

    current = client.get("/v1/nodes/n1").headers["ETag"]
    assert client.delete("/v1/nodes/n1", headers={"If-Match": current}).status_code == 200


def test_node_ports_are_allocated_and_kept(client: TestClient) -> None:
    service = {
        "metadata": {"name": "np"},
        "spec": {"type": "NodePort", "clusterIPs": ["10.96.0.20"], "ports": [{"port": 80}]},
    }
    created = client.post(f"{NS}/services", json=service).json()
    allocated = created["spec"]["ports"][0]["nodePort"]
    assert 30000 <= allocated <= 32767
    replaced = client.put(f"{NS}/services/np", json=service).json()
    assert replaced["spec"]["ports"][0]["nodePort"] == allocated
    second = {
        "metadata": {"name": "np2"},
        "spec": {"type": "NodePort", "clusterIPs": ["10.96.0.21"], "ports": [{"port": 80}]},
    }
    other = client.post(f"{NS}/services", json=second).json()
    assert other["spec"]["ports"][0]["nodePort"] != allocated


def test_deleting_a_namespace_deletes_its_objects(client: TestClient) -> None:
    for case in KINDS:
        if case.kind == "Service":
            assert client.post(case.collection, json=case.body()).status_code == 201
    endpoints = next(c for c in KINDS if c.kind == "EndpointSlice")
    assert client.put(endpoints.item(), json=endpoints.body()).status_code == 201
    assert client.delete("/v1/namespaces/team-a").status_code == 200
    assert client.get(f"{NS}/services/web").status_code == 404
    assert client.get(endpoints.item()).status_code == 404
    # The claims went with them: the same clusterIP can be used again.
    seed_namespace(client)
    again = next(c for c in KINDS if c.kind == "Service")
    assert client.post(again.collection, json=again.body(name="web-again")).status_code == 201


def test_deleting_a_service_deletes_its_endpoints(client: TestClient) -> None:
    service = next(c for c in KINDS if c.kind == "Service")
    endpoints = next(c for c in KINDS if c.kind == "EndpointSlice")
    client.post(service.collection, json=service.body())
    client.put(endpoints.item(), json=endpoints.body())
    client.delete(service.item())
    assert client.get(endpoints.item()).status_code == 404


def test_endpoints_need_their_service(client: TestClient) -> None:
    endpoints = next(c for c in KINDS if c.kind == "EndpointSlice")
    missing = client.put(endpoints.item(), json=endpoints.body())
    assert missing.status_code == 404
    assert "service team-a/web" in missing.json()["detail"]


def test_bgp_peer_password_is_write_only(client: TestClient) -> None:
    body = {"spec": {"peerIP": "198.51.100.1", "asNumber": 65000, "password": "s3cret"}}
    created = client.put("/v1/bgp-peers/r1", json=body)
    assert "password" not in created.json()["spec"]
    assert "password" not in client.get("/v1/bgp-peers/r1").json()["spec"]
    # A patch that does not touch it keeps it (checked through the store).
    client.patch(
        "/v1/bgp-peers/r1",
        json={"spec": {"asNumber": 65001}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    row = client.app.state.store.get("BgpPeer", "", "r1")  # type: ignore[attr-defined]
    assert row.spec["password"] == "s3cret"
    assert row.spec["asNumber"] == 65001


def test_node_status_is_read_only(client: TestClient) -> None:
    body = {"spec": {"addresses": ["192.0.2.1"]}, "status": {"connected": True}}
    created = client.put("/v1/nodes/n1", json=body).json()
    assert created["status"]["connected"] is False
