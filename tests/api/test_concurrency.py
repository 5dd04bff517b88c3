"""Clients racing on one object over real HTTP: optimistic concurrency holds."""

from __future__ import annotations

import threading
from collections import Counter

import httpx

from .support import LiveServer

RACERS = 8


def race(server: LiveServer, send: object) -> Counter[int]:
    barrier = threading.Barrier(RACERS)
    statuses: list[int] = []
    lock = threading.Lock()

    def run(index: int) -> None:
        with server.client() as client:
            barrier.wait()
            response = send(client, index)  # type: ignore[operator]
            with lock:
                statuses.append(response.status_code)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return Counter(statuses)


def test_racing_updates_with_if_match_exactly_one_wins(database_url: str) -> None:
    with LiveServer(database_url) as server:
        created = server.client().put("/v1/nodes/n1", json={"spec": {"addresses": ["192.0.2.1"]}})
        etag = created.headers["ETag"]

        def update(client: httpx.Client, index: int) -> httpx.Response:
            body = {"spec": {"addresses": [f"192.0.2.{index + 10}"]}}
            return client.put("/v1/nodes/n1", json=body, headers={"If-Match": etag})

        assert race(server, update) == Counter({200: 1, 412: RACERS - 1})
        final = server.client().get("/v1/nodes/n1").json()
        assert final["metadata"]["resourceVersion"] == str(int(etag.strip('"')) + 1)


def test_racing_creates_exactly_one_wins(database_url: str) -> None:
    with LiveServer(database_url) as server:

        def create(client: httpx.Client, index: int) -> httpx.Response:
            body = {"metadata": {"name": "n1"}, "spec": {"addresses": [f"192.0.2.{index + 1}"]}}
            return client.post("/v1/nodes", json=body)

        assert race(server, create) == Counter({201: 1, 409: RACERS - 1})


def test_racing_claims_exactly_one_service_gets_the_address(database_url: str) -> None:
    with LiveServer(database_url) as server:
        server.client().put("/v1/namespaces/team-a", json={"spec": {}}).raise_for_status()

        def create(client: httpx.Client, index: int) -> httpx.Response:
            body = {"spec": {"clusterIPs": ["10.96.0.10"], "ports": [{"port": 80}]}}
            return client.put(f"/v1/namespaces/team-a/services/svc-{index}", json=body)

        assert race(server, create) == Counter({201: 1, 409: RACERS - 1})


def test_revisions_are_unique_and_dense_under_concurrent_writes(database_url: str) -> None:
    with LiveServer(database_url) as server:

        def create(client: httpx.Client, index: int) -> httpx.Response:
            body = {"spec": {"addresses": [f"192.0.2.{index + 1}"]}}
            return client.put(f"/v1/nodes/n{index}", json=body)

        assert race(server, create) == Counter({201: RACERS})
        listed = server.client().get("/v1/nodes").json()
        versions = sorted(int(item["metadata"]["resourceVersion"]) for item in listed["items"])
        assert versions == list(range(1, RACERS + 1))
