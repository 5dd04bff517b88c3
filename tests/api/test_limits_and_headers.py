"""Size limits and strict types on requests (issue 10, defect 8) and the security headers
(defect 9). Before the fix: a chunked body over the limit answered 400, 100k labels and
100k endpoint addresses were accepted, "80" was coerced to 80, and no response carried
Cache-Control or X-Content-Type-Options."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from .support import NS, LiveServer, api_client, seed_namespace

LB = {"vip": "203.0.113.10/32", "port": 80, "lbNodeSelector": {}, "backends": {"nodeSelector": {}}}
SERVICE = {"clusterIPs": ["10.96.0.10"], "ports": [{"port": 80}]}


@pytest.fixture
def client(fresh_postgres_url: str) -> Iterator[TestClient]:
    with api_client(fresh_postgres_url) as client:
        seed_namespace(client)
        client.put(f"{NS}/services/web", json={"spec": SERVICE}).raise_for_status()
        yield client


def endpoints(count: int) -> dict[str, Any]:
    return {
        "endpoints": [
            {"addresses": [f"10.{i // 65536}.{i // 256 % 256}.{i % 256}"]} for i in range(count)
        ]
    }


def test_chunked_body_over_the_limit_is_413(fresh_postgres_url: str) -> None:
    with LiveServer(fresh_postgres_url, max_body_bytes=4096) as server, server.client() as client:

        def chunks() -> Iterator[bytes]:  # no Content-Length: Transfer-Encoding: chunked
            yield b'{"spec": {}, "metadata": {"annotations": {"a": "'
            for _ in range(10):
                yield b"x" * 1024
            yield b'"}}}'

        json_body = {"Content-Type": "application/json"}
        response = client.put("/v1/namespaces/big", content=chunks(), headers=json_body)
        assert response.status_code == 413, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["status"] == 413
        assert client.get("/v1/namespaces/big").status_code == 404
        small = client.put(
            "/v1/namespaces/small", content=iter([b'{"spec": ', b"{}}"]), headers=json_body
        )
        assert small.status_code == 201  # chunked bodies under the limit still work


def test_endpoints_per_slice_are_limited_to_1000(client: TestClient) -> None:
    path = f"{NS}/services/web/endpoints"
    assert client.put(path, json=endpoints(1000)).status_code == 201
    response = client.put(path, json=endpoints(1001))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "endpoints"
    assert len(client.get(path).json()["endpoints"]) == 1000


def test_labels_per_object_are_limited(client: TestClient) -> None:
    labels = {f"k{i}": "v" for i in range(257)}
    response = client.put("/v1/namespaces/many", json={"metadata": {"labels": labels}, "spec": {}})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "metadata.labels"
    del labels["k0"]
    response = client.put("/v1/namespaces/many", json={"metadata": {"labels": labels}, "spec": {}})
    assert response.is_success, response.text


def test_annotations_are_limited_in_count_and_size(client: TestClient) -> None:
    many = {f"a{i}": "" for i in range(1025)}
    big = {"a": "x" * (256 * 1024)}
    for value in (many, big):
        response = client.put(
            "/v1/namespaces/ann", json={"metadata": {"annotations": value}, "spec": {}}
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "metadata.annotations"


def test_selector_values_and_lb_addresses_are_limited(client: TestClient) -> None:
    values = [f"v{i}" for i in range(257)]
    selector = {"matchExpressions": [{"key": "a", "operator": "In", "values": values}]}
    response = client.put(f"{NS}/network-policies/p", json={"spec": {"podSelector": selector}})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "spec.podSelector.matchExpressions[0].values"
    addresses = [f"10.0.{i // 256}.{i % 256}" for i in range(1001)]
    lb = {**LB, "backends": {"addresses": addresses}}
    response = client.put("/v1/load-balancers/lb", json={"spec": lb})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "spec.backends.addresses"


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/load-balancers/lb", {"spec": {**LB, "port": "80"}}, "spec.port"),
        (
            f"{NS}/services/s2",
            {"spec": {**SERVICE, "ports": [{"port": "80"}]}},
            "spec.ports[0].port",
        ),
        ("/v1/load-balancers/lb", {"spec": {**LB, "port": 80.0}}, "spec.port"),
        (
            "/v1/bgp-peers/r",
            {"spec": {"peerIP": "198.51.100.1", "asNumber": 65000, "routeReflectorClient": 1}},
            "spec.routeReflectorClient",
        ),
        (
            "/v1/bgp-peers/r",
            {"spec": {"peerIP": "198.51.100.1", "asNumber": True}},
            "spec.asNumber",
        ),
    ],
    ids=["string-port", "string-service-port", "float-port", "int-as-bool", "bool-as-int"],
)
def test_no_lax_coercion(client: TestClient, path: str, body: dict[str, Any], field: str) -> None:
    response = client.put(path, json=body)
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]]
    assert client.get(path).status_code == 404


def test_token_requests_are_strict(client: TestClient) -> None:
    response = client.post("/v1/tokens", json={"role": "reader", "description": 5})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "description"


def test_security_headers(client: TestClient) -> None:
    for response in (
        client.get("/v1/namespaces"),
        client.get(f"{NS}/services/web"),
        client.get("/v1/namespaces/absent"),  # errors too
        client.get("/v1/status"),
        client.post("/v1/tokens", json={"role": "reader"}),
        client.get("/v1/tokens"),
    ):
        assert response.headers["cache-control"] == "no-store", response.request.url
        assert response.headers["x-content-type-options"] == "nosniff"
    for path in ("/healthz", "/readyz", "/metrics", "/openapi.json"):
        response = client.get(path)
        assert response.headers["x-content-type-options"] == "nosniff"


def test_token_creation_is_not_cached_over_http(fresh_postgres_url: str) -> None:
    with LiveServer(fresh_postgres_url) as server, server.client() as client:
        response = client.post("/v1/tokens", json={"role": "reader"})
        assert response.status_code == 201
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["x-content-type-options"] == "nosniff"
        unauthenticated = httpx.get(f"{server.url}/v1/namespaces")
        assert unauthenticated.status_code == 401
        assert unauthenticated.headers["cache-control"] == "no-store"
