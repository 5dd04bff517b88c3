"""Services with a selector: Switchyard keeps their endpoints from the Pods, in the same write
(one revision), and every node's compiled frontends follow. End to end over REST and
GET /v1/nodes/{name}/config against a live server on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.waiting import wait_for

from .support import LiveServer

NS = "/v1/namespaces/shop"
FRONTEND = "frontend/TCP/10.96.0.50/80"


@pytest.fixture
def client(fresh_postgres_url: str) -> Iterator[httpx.Client]:
    with LiveServer(fresh_postgres_url) as server, server.client() as client:
        client.put("/v1/namespaces/shop", json={}).raise_for_status()
        for index, node in enumerate(("n1", "n2"), start=1):
            spec = {"addresses": [f"192.0.2.{index}"], "podCIDRs": [f"10.1.{index}.0/24"]}
            client.put(f"/v1/nodes/{node}", json={"spec": spec}).raise_for_status()
        yield client


def put_pod(
    client: httpx.Client, name: str, node: str, ip: str, port: str = "http", **labels: str
) -> None:
    spec = {
        "nodeName": node,
        "podIPs": [ip],
        "ports": [{"name": port, "containerPort": 8080 if node == "n1" else 9090}],
    }
    body = {"metadata": {"labels": labels or {"app": "web"}}, "spec": spec}
    client.put(f"{NS}/pods/{name}", json=body).raise_for_status()


def revision(client: httpx.Client) -> int:
    value: int = client.get("/v1/status").json()["revision"]
    return value


def endpoints(client: httpx.Client) -> list[tuple[str, str, bool, str]]:
    document = client.get(f"{NS}/services/web/endpoints").json()
    return sorted(
        (e["targetRef"]["name"], e["addresses"][0], e["conditions"]["ready"], e["nodeName"])
        for e in document["endpoints"]
    )


def backends_everywhere(client: httpx.Client, want: list[tuple[str, int]]) -> None:
    """Both nodes' compiled config show exactly these backends (address, port)."""

    def current(node: str) -> list[tuple[str, int]] | None:
        response = client.get(f"/v1/nodes/{node}/config")
        if response.status_code != 200 or response.json()["revision"] != revision(client):
            return None
        frontend: dict[str, Any] | None = response.json()["objects"].get(FRONTEND)
        found = [] if frontend is None else frontend["backends"]
        return sorted((b["address"], b["port"]) for b in found)

    for node in ("n1", "n2"):
        wait_for(lambda n=node: current(n) == want, what=f"backends on {node}: {current(node)}")


def test_selector_endpoints_follow_pods_and_the_selector(client: httpx.Client) -> None:
    put_pod(client, "web-1", "n1", "10.1.1.5")
    put_pod(client, "web-2", "n2", "10.1.2.5")
    put_pod(client, "db-1", "n2", "10.1.2.9", port="postgres", app="db")
    service = {
        "spec": {
            "selector": {"app": "web"},
            "clusterIP": "10.96.0.50",
            "ports": [{"port": 80, "targetPort": "http"}],
        }
    }
    before = revision(client)
    client.put(f"{NS}/services/web", json=service).raise_for_status()
    assert revision(client) == before + 1  # the service and its endpoints: one revision
    assert endpoints(client) == [
        ("web-1", "10.1.1.5", True, "n1"),
        ("web-2", "10.1.2.5", True, "n2"),
    ]
    # The named targetPort resolves per pod: 8080 on web-1, 9090 on web-2.
    backends_everywhere(client, [("10.1.1.5", 8080), ("10.1.2.5", 9090)])

    def one_revision(action: Any) -> None:
        start = revision(client)
        action()
        assert revision(client) == start + 1
        rows = client.get(f"{NS}/services/web/endpoints").json()
        assert rows["metadata"]["resourceVersion"] == str(start + 1)

    # Relabelling a pod out of the selector.
    one_revision(lambda: put_pod(client, "web-2", "n2", "10.1.2.5", app="other"))
    assert endpoints(client) == [("web-1", "10.1.1.5", True, "n1")]
    backends_everywhere(client, [("10.1.1.5", 8080)])

    # ... and back in, then NotReady through the status subresource.
    one_revision(lambda: put_pod(client, "web-2", "n2", "10.1.2.5"))
    not_ready = {"status": {"conditions": [{"type": "Ready", "status": "False"}]}}
    one_revision(lambda: client.put(f"{NS}/pods/web-2/status", json=not_ready).raise_for_status())
    assert endpoints(client) == [
        ("web-1", "10.1.1.5", True, "n1"),
        ("web-2", "10.1.2.5", False, "n2"),
    ]
    backends_everywhere(client, [("10.1.1.5", 8080)])

    # Deleting a pod.
    one_revision(lambda: client.delete(f"{NS}/pods/web-1").raise_for_status())
    assert endpoints(client) == [("web-2", "10.1.2.5", False, "n2")]
    backends_everywhere(client, [])

    # Changing the selector.
    service["spec"]["selector"] = {"app": "db"}
    one_revision(lambda: client.put(f"{NS}/services/web", json=service).raise_for_status())
    assert endpoints(client) == [("db-1", "10.1.2.9", True, "n2")]
    backends_everywhere(client, [])  # db-1 has no port named http: left out of that port
    service["spec"]["ports"] = [{"port": 80, "targetPort": 5432}]
    client.put(f"{NS}/services/web", json=service).raise_for_status()
    backends_everywhere(client, [("10.1.2.9", 5432)])


def test_the_change_log_shows_endpoints_in_the_causing_revision(client: httpx.Client) -> None:
    put_pod(client, "web-1", "n1", "10.1.1.5")
    client.put(
        f"{NS}/services/web", json={"spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}}
    ).raise_for_status()
    start = revision(client)
    client.put(
        f"{NS}/pods/web-1/status",
        json={"status": {"conditions": [{"type": "Ready", "status": "False"}]}},
    ).raise_for_status()
    with client.stream("GET", "/v1/events", params={"since": start}) as stream:
        events: list[tuple[int, str]] = []
        for line in stream.iter_lines():
            if line.startswith("data: "):
                payload = httpx.Response(200, content=line[6:]).json()
                events.append((payload["revision"], payload["kind"]))
            if len(events) == 2:
                break
    assert sorted(events) == [(start + 1, "EndpointSlice"), (start + 1, "Pod")]


def test_selector_endpoints_are_read_only(client: httpx.Client) -> None:
    client.put(
        f"{NS}/services/web", json={"spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}}
    ).raise_for_status()
    before = revision(client)
    body = {"endpoints": [{"addresses": ["10.1.1.7"]}]}
    for response in (
        client.put(f"{NS}/services/web/endpoints", json=body),
        client.patch(
            f"{NS}/services/web/endpoints",
            json=body,
            headers={"Content-Type": "application/merge-patch+json"},
        ),
        client.delete(f"{NS}/services/web/endpoints"),
    ):
        assert response.status_code == 409, response.text
        assert "selector app=web" in response.json()["detail"]
        assert response.json()["owner"] == "Service shop/web"
    assert revision(client) == before
    # Removing the selector removes the maintained endpoints; they are the user's again.
    client.put(f"{NS}/services/web", json={"spec": {"ports": [{"port": 80}]}}).raise_for_status()
    assert client.get(f"{NS}/services/web/endpoints").status_code == 404
    assert client.put(f"{NS}/services/web/endpoints", json=body).status_code == 201


def test_dual_stack_selector_service_lists_both_families(client: httpx.Client) -> None:
    pod = {"nodeName": "n1", "podIPs": ["10.1.1.5", "fd00:1::5"]}
    client.put(f"{NS}/pods/web-1", json={"metadata": {"labels": {"app": "web"}}, "spec": pod})
    service = {
        "spec": {
            "selector": {"app": "web"},
            "clusterIPs": ["10.96.0.60", "fd00:96::60"],
            "ports": [{"port": 80}],
        }
    }
    with_v6 = client.put(f"{NS}/services/web", json=service)
    # The default service CIDRs are IPv4 only: an IPv6 address is outside them.
    assert with_v6.status_code == 422
    assert with_v6.json()["errors"][0]["field"] == "spec.clusterIPs[1]"
