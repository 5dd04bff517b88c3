"""PUT/PATCH .../pods/{name}/status: Kubernetes-shaped conditions, who may write them, and
what they change."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from .support import NS, api_client, seed_namespace

POD = {"metadata": {"labels": {"app": "web"}}, "spec": {"nodeName": "n1", "podIPs": ["10.1.1.5"]}}
NOT_READY = {"status": {"conditions": [{"type": "Ready", "status": "False"}]}}


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    with api_client(database_url) as client:
        seed_namespace(client)
        for node in ("n1", "n2"):
            spec = {"addresses": ["192.0.2.1" if node == "n1" else "192.0.2.2"]}
            client.put(f"/v1/nodes/{node}", json={"spec": spec}).raise_for_status()
        client.put(f"{NS}/pods/web-1", json=POD).raise_for_status()
        yield client


def token(client: TestClient, role: str, node: str | None = None) -> dict[str, str]:
    body = {"role": role, **({"node": node} if node else {})}
    created = client.post("/v1/tokens", json=body)
    created.raise_for_status()
    return {"Authorization": f"Bearer {created.json()['token']}"}


def test_put_and_patch_status_keep_spec_and_labels(client: TestClient) -> None:
    before = client.get(f"{NS}/pods/web-1").json()
    put = client.put(f"{NS}/pods/web-1/status", json={**POD, **NOT_READY})
    assert put.status_code == 200, put.text
    assert put.headers["Warning"].startswith('299 - "') and "spec" in put.headers["Warning"]
    after = client.get(f"{NS}/pods/web-1").json()
    assert after["status"]["conditions"] == [{"type": "Ready", "status": "False"}]
    assert after["spec"] == before["spec"] and after["metadata"]["labels"] == {"app": "web"}
    assert int(after["metadata"]["resourceVersion"]) > int(before["metadata"]["resourceVersion"])
    assert "appliedNodes" in after["status"]  # convergence status beside the conditions

    patch = client.patch(
        f"{NS}/pods/web-1/status",
        json={"status": {"conditions": [{"type": "Ready", "status": "True", "reason": "Up"}]}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert patch.status_code == 200, patch.text
    assert patch.json()["status"]["conditions"][0]["reason"] == "Up"
    # A spec write keeps the reported status.
    client.put(f"{NS}/pods/web-1", json=POD).raise_for_status()
    assert client.get(f"{NS}/pods/web-1").json()["status"]["conditions"][0]["status"] == "True"


def test_kubernetes_pod_status_is_accepted_and_the_rest_named(client: TestClient) -> None:
    status = {
        "phase": "Running",
        "podIP": "10.1.1.5",
        "podIPs": [{"ip": "10.1.1.5"}],
        "conditions": [
            {"type": "Ready", "status": "True", "lastTransitionTime": "2026-12-03T10:00:00Z"},
            {"type": "ContainersReady", "status": "True"},
        ],
        "containerStatuses": [{"name": "web", "ready": True}],
    }
    response = client.put(f"{NS}/pods/web-1/status", json={"apiVersion": "v1", "status": status})
    assert response.status_code == 200, response.text
    warning = response.headers["Warning"]
    for field in ("status.phase", "status.podIP", "status.podIPs", "status.containerStatuses"):
        assert field in warning
    assert len(response.json()["status"]["conditions"]) == 2


def test_who_may_write_a_pods_status(client: TestClient) -> None:
    path = f"{NS}/pods/web-1/status"
    assert client.put(path, json=NOT_READY, headers=token(client, "node", "n1")).status_code == 200
    other = client.put(path, json=NOT_READY, headers=token(client, "node", "n2"))
    assert other.status_code == 403 and "n2" in other.json()["detail"]
    assert client.put(path, json=NOT_READY, headers=token(client, "reader")).status_code == 403
    assert client.put(path, json=NOT_READY, headers=token(client, "writer")).status_code == 200
    assert client.put(path, json=NOT_READY, headers={"Authorization": ""}).status_code == 401
    # A node token still grants nothing else over REST.
    assert client.get(f"{NS}/pods/web-1", headers=token(client, "node", "n1")).status_code == 403


def test_bad_status_is_422_naming_the_field_and_changes_nothing(client: TestClient) -> None:
    before = client.get(f"{NS}/pods/web-1").json()
    bad = {"status": {"conditions": [{"type": "Ready", "status": "yes"}]}}
    response = client.put(f"{NS}/pods/web-1/status", json=bad)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "status.conditions[0].status"
    twice = {"status": {"conditions": [{"type": "Ready", "status": "True"}] * 2}}
    response = client.put(f"{NS}/pods/web-1/status", json=twice)
    assert response.status_code == 422
    assert client.get(f"{NS}/pods/web-1").json() == before
    assert client.put(f"{NS}/pods/ghost/status", json=NOT_READY).status_code == 404


def test_unchanged_status_is_a_no_op(client: TestClient) -> None:
    first = client.put(f"{NS}/pods/web-1/status", json=NOT_READY)
    again = client.put(f"{NS}/pods/web-1/status", json=NOT_READY)
    assert again.status_code == 200
    assert again.headers["ETag"] == first.headers["ETag"]
    stale = client.put(f"{NS}/pods/web-1/status", json=NOT_READY, headers={"If-Match": '"1"'})
    assert stale.status_code == 412
