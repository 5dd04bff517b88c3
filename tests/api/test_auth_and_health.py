"""Roles, tokens, and the unauthenticated operational endpoints."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from switchyard_api.auth import TokenStore, hash_token
from switchyard_api.store.db import create_store_engine
from switchyard_api.store.models import ApiToken
from switchyard_api.store.store import IntentStore

from .support import AUTH, api_client

NODE = {"spec": {"addresses": ["192.0.2.1"]}}


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    with api_client(database_url) as client:
        yield client


def token_for(client: TestClient, role: str) -> dict[str, str]:
    created = client.post("/v1/tokens", json={"role": role, "description": f"a {role}"})
    assert created.status_code == 201, created.text
    return {"Authorization": f"Bearer {created.json()['token']}"}


def test_missing_or_invalid_token_is_401(client: TestClient) -> None:
    for headers in (
        {"Authorization": ""},
        {"Authorization": "Bearer nope"},
        {"Authorization": "Basic eA=="},
    ):
        response = client.get("/v1/nodes", headers=headers)
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
    assert (
        client.put("/v1/nodes/n1", json=NODE, headers={"Authorization": "Bearer nope"}).status_code
        == 401
    )
    assert client.get("/v1/nodes/n1").status_code == 404  # nothing was written


def test_roles(client: TestClient) -> None:
    reader, writer = token_for(client, "reader"), token_for(client, "writer")
    assert client.get("/v1/nodes", headers=reader).status_code == 200
    forbidden = client.put("/v1/nodes/n1", json=NODE, headers=reader)
    assert forbidden.status_code == 403
    assert "writer" in forbidden.json()["detail"]
    assert client.put("/v1/nodes/n1", json=NODE, headers=writer).status_code == 201
    assert client.delete("/v1/nodes/n1", headers=reader).status_code == 403
    assert client.post("/v1/tokens", json={"role": "reader"}, headers=writer).status_code == 403
    assert client.get("/v1/tokens", headers=writer).status_code == 403
    assert (
        client.get("/v1/events", params={"since": 0}, headers={"Authorization": ""}).status_code
        == 401
    )


def test_tokens_are_stored_hashed_and_revocable(client: TestClient, database_url: str) -> None:
    created = client.post("/v1/tokens", json={"role": "reader"}).json()
    secret = created["token"]
    store = IntentStore(create_store_engine(database_url))
    with store.read() as session:
        row = session.get(ApiToken, created["id"])
        assert row is not None
        assert row.token_hash == hash_token(secret)
        assert secret not in (row.token_hash, row.description)
    listed = client.get("/v1/tokens").json()["items"]
    assert created["id"] in [t["id"] for t in listed]
    assert all("token" not in t for t in listed)
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/v1/nodes", headers=headers).status_code == 200
    assert client.delete(f"/v1/tokens/{created['id']}").status_code == 204
    assert client.get("/v1/nodes", headers=headers).status_code == 401
    assert client.delete(f"/v1/tokens/{created['id']}").status_code == 404
    store.engine.dispose()


def test_token_store_creates_distinct_secrets(database_url: str) -> None:
    store = IntentStore(create_store_engine(database_url))
    tokens = TokenStore(store)
    (_, first), (_, second) = tokens.create("reader"), tokens.create("reader")
    assert first != second and first.startswith("sy_")
    assert tokens.role_of(first) == "reader"
    assert tokens.role_of(first + "x") is None
    store.engine.dispose()


def test_health_ready_metrics_need_no_token(client: TestClient) -> None:
    bare = {"Authorization": ""}
    assert client.get("/healthz", headers=bare).json() == {"status": "ok"}
    client.put("/v1/nodes/n1", json=NODE, headers=AUTH)
    ready = client.get("/readyz", headers=bare)
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "revision": 1}
    metrics = client.get("/metrics", headers=bare).text
    assert (
        'switchyard_http_requests_total{method="PUT",route="/v1/nodes/{name}",status="201"} 1.0'
        in metrics
    )
    assert "switchyard_http_request_duration_seconds_bucket" in metrics
    assert "switchyard_revision 1.0" in metrics


def test_readyz_fails_on_a_database_behind_the_head(tmp_path: object) -> None:
    with api_client(f"sqlite:///{tmp_path}/empty.db") as client:
        response = client.get("/readyz")
        assert response.status_code == 503
        assert "switchyard-api migrate" in response.json()["detail"]


def test_a_token_revoked_on_one_replica_is_refused_by_another_at_once(
    fresh_postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Roles are remembered; a revocation must still reach every replica (by NOTIFY), not
    wait for the memory to expire: here it would last a minute."""
    import time

    from switchyard_api import auth

    from .support import LiveServer

    monkeypatch.setattr(auth, "ROLE_CACHE_SECONDS", 60.0)
    with LiveServer(fresh_postgres_url) as a, LiveServer(fresh_postgres_url) as b:
        created = a.client().post("/v1/tokens", json={"role": "reader"}).json()
        headers = {"Authorization": f"Bearer {created['token']}"}
        with b.client() as other:
            assert other.get("/v1/nodes", headers=headers).status_code == 200  # remembered
            assert a.client().delete(f"/v1/tokens/{created['id']}").status_code == 204
            deadline = time.monotonic() + 5
            while other.get("/v1/nodes", headers=headers).status_code != 401:
                assert time.monotonic() < deadline, "replica b still accepts a revoked token"
                time.sleep(0.05)
