"""No request string can store a poison object, and no write commits and then answers 5xx
(issue 10, defect 2). Before the fix: a lone surrogate in an annotation answered 500 but was
committed (and every later GET, list and DELETE answered 500); NUL in a token description was a
500 from PostgreSQL; NUL was stored in Pod.spec.interface and BgpPeer.password."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from switchyard_api import representation
from switchyard_api.http import crud

from .support import NS, api_client, seed_namespace

NODE = {"spec": {"addresses": ["192.0.2.1"]}}
POD = {"spec": {"nodeName": "n1", "podIPs": ["10.1.1.5"]}}
PEER = {"spec": {"peerIP": "198.51.100.1", "asNumber": 65000}}
ENDPOINTS = {"endpoints": [{"addresses": ["10.1.1.5"]}]}
SERVICE = {"spec": {"clusterIPs": ["10.96.0.10"], "ports": [{"port": 80}]}}
BAD = {"NUL": "a\u0000b", "lone surrogate": "a\ud800b"}


@pytest.fixture
def client(fresh_postgres_url: str) -> Any:
    with api_client(fresh_postgres_url) as client:
        seed_namespace(client)
        client.put("/v1/nodes/n1", json=NODE).raise_for_status()
        client.put(f"{NS}/services/web", json=SERVICE).raise_for_status()
        yield client


def send(client: TestClient, method: str, path: str, body: Any) -> Any:
    """json.dumps escapes what it cannot encode as \\uXXXX, as a client's JSON library would."""
    content_type = "application/merge-patch+json" if method == "PATCH" else "application/json"
    return client.request(
        method, path, content=json.dumps(body), headers={"Content-Type": content_type}
    )


def with_value(base: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    document = json.loads(json.dumps(base))
    *parents, last = dotted.split(".")
    target = document
    for part in parents:
        target = target.setdefault(part, {})
    target[last] = value
    return document


# (method, path, base body, where the bad string goes, the field the problem names)
FIELDS = [
    ("PUT", "/v1/namespaces/poison", {"spec": {}}, "metadata.annotations.a", None),
    ("PUT", "/v1/namespaces/poison", {"spec": {}}, "metadata.labels.a", None),
    ("PUT", f"{NS}/pods/p1", POD, "spec.interface", "spec.interface"),
    ("PUT", "/v1/nodes/n2", NODE, "spec.uplinkInterface", "spec.uplinkInterface"),
    ("PUT", "/v1/bgp-peers/r1", PEER, "spec.password", "spec.password"),
    ("PUT", f"{NS}/services/web/endpoints", ENDPOINTS, "zone", None),
    ("PATCH", "/v1/nodes/n1", {}, "metadata.annotations.note", None),
    ("PUT", "/v1/namespaces/poison", {"spec": {}}, "metadata.resourceVersion", None),
    ("POST", "/v1/tokens", {"role": "reader"}, "description", "description"),
]


@pytest.mark.parametrize("bad", BAD, ids=list(BAD))
@pytest.mark.parametrize(
    ("method", "path", "base", "where", "field"), FIELDS, ids=[f[3] for f in FIELDS]
)
def test_nul_and_lone_surrogates_are_422_naming_the_field_and_store_nothing(
    client: TestClient,
    method: str,
    path: str,
    base: dict[str, Any],
    where: str,
    field: str | None,
    bad: str,
) -> None:
    if where == "zone":  # inside the first endpoint
        body: dict[str, Any] = json.loads(json.dumps(base))
        body["endpoints"][0]["zone"] = BAD[bad]
        field = "endpoints[0].zone"
    else:
        body = with_value(base, where, BAD[bad])
    before = client.get("/readyz").json()["revision"]
    response = send(client, method, path, body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    named = [e["field"] for e in problem["errors"]]
    assert named == [field or where], problem
    assert client.get("/readyz").json()["revision"] == before  # nothing was written
    assert client.get("/v1/namespaces").status_code == 200
    assert client.get("/v1/tokens").status_code == 200


def test_the_poison_namespace_of_the_report(client: TestClient) -> None:
    response = client.put(
        "/v1/namespaces/poison",
        content='{"metadata": {"annotations": {"a": "\\ud800"}}, "spec": {}}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "metadata.annotations.a"
    assert client.get("/v1/namespaces/poison").status_code == 404
    assert client.get("/v1/namespaces").status_code == 200
    assert client.delete("/v1/namespaces/poison").status_code == 404


def test_a_lone_surrogate_in_a_field_name_is_422_not_500(client: TestClient) -> None:
    response = client.put(
        "/v1/nodes/n3",
        content='{"spec": {"addresses": ["192.0.2.3"], "\\udc00x": 1}}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "spec"  # the object holding the bad name


def test_a_label_selector_with_nul_is_422(client: TestClient) -> None:
    response = client.get("/v1/namespaces", params={"labelSelector": "a=b\u0000"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "labelSelector"


@pytest.mark.parametrize("method", ["PUT", "POST", "PATCH", "DELETE"])
def test_a_response_that_cannot_be_built_undoes_the_write(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, method: str
) -> None:
    """The response is rendered inside the transaction: when that fails the write rolls back
    (before the fix the object was committed, then the request answered 500)."""
    client.put("/v1/namespaces/victim", json={"spec": {}}).raise_for_status()
    if method == "POST":
        client.delete("/v1/namespaces/victim").raise_for_status()
    before = client.get("/v1/namespaces/victim")
    real = representation.to_document

    def failing(info: Any, row: Any) -> dict[str, Any]:
        if row.name == "victim":
            raise RuntimeError("cannot represent this object")
        return real(info, row)

    for module in (crud, _prepared_module()):
        if module is not None:
            monkeypatch.setattr(module, "to_document", failing, raising=False)
    body = {"metadata": {"name": "victim", "labels": {"x": "y"}}, "spec": {}}
    if method == "POST":
        response = client.post("/v1/namespaces", json=body)
    elif method == "PATCH":
        response = send(client, "PATCH", "/v1/namespaces/victim", {"metadata": {"labels": {}}})
    else:
        response = client.request(method, "/v1/namespaces/victim", json=body)
    assert response.status_code == 500
    monkeypatch.undo()
    after = client.get("/v1/namespaces/victim")  # exactly as before: nothing committed
    assert after.status_code == before.status_code
    if before.status_code == 200:
        assert after.json()["metadata"] == before.json()["metadata"]
    events = client.app.state.store.changes_after(0)  # type: ignore[attr-defined]
    assert [(e.operation, e.name) for e in events if e.name == "victim"] == (
        [("ADDED", "victim"), ("DELETED", "victim")] if method == "POST" else [("ADDED", "victim")]
    )


def _prepared_module() -> Any:
    try:
        from switchyard_api.http import prepared
    except ImportError:  # the code before the fix rendered responses in crud, after commit
        return None
    return prepared
