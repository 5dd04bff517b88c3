"""GET /v1/events: replay from a revision, then follow, in revision order, across kinds."""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from switchyard_api.store.db import create_store_engine
from switchyard_api.store.store import IntentStore

from .support import AUTH, LiveServer, seed_namespace


class EventReader:
    """Reads an SSE stream in a thread; events arrive on a queue as (id, data)."""

    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        self.events: queue.Queue[tuple[int, dict[str, Any]]] = queue.Queue()
        self.url = url
        self.headers = {**AUTH, **(headers or {})}
        self.client = httpx.Client(timeout=httpx.Timeout(10, read=None))
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.status: int | None = None
        self.opened = threading.Event()

    def _run(self) -> None:
        try:
            with self.client.stream("GET", self.url, headers=self.headers) as response:
                self.status = response.status_code
                self.opened.set()
                event_id: int | None = None
                for line in response.iter_lines():
                    if line.startswith("id: "):
                        event_id = int(line[4:])
                    elif line.startswith("data: ") and event_id is not None:
                        self.events.put((event_id, json.loads(line[6:])))
        except httpx.HTTPError:
            self.opened.set()

    def __enter__(self) -> EventReader:
        self.thread.start()
        assert self.opened.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()

    def take(self, count: int, timeout: float = 5.0) -> list[tuple[int, dict[str, Any]]]:
        return [self.events.get(timeout=timeout) for _ in range(count)]


@pytest.fixture
def server(database_url: str) -> Iterator[LiveServer]:
    with LiveServer(database_url) as live:
        yield live


def write_some(client: httpx.Client) -> None:
    seed_namespace(client)
    client.put("/v1/nodes/n1", json={"spec": {"addresses": ["192.0.2.1"]}}).raise_for_status()
    client.put(
        "/v1/namespaces/team-a/services/web",
        json={"spec": {"clusterIPs": ["10.96.0.10"], "ports": [{"port": 80}]}},
    ).raise_for_status()
    client.put(
        "/v1/namespaces/team-a/services/web/endpoints",
        json={"endpoints": [{"addresses": ["10.1.1.5"]}]},
    ).raise_for_status()
    client.delete("/v1/nodes/n1").raise_for_status()


def test_replay_then_follow_across_kinds(server: LiveServer) -> None:
    client = server.client()
    write_some(client)
    with EventReader(f"{server.url}/v1/events?since=0") as reader:
        replayed = reader.take(5)
        assert [r for r, _ in replayed] == [1, 2, 3, 4, 5]
        assert [(d["type"], d["kind"], d["name"]) for _, d in replayed] == [
            ("ADDED", "Namespace", "team-a"),
            ("ADDED", "Node", "n1"),
            ("ADDED", "Service", "web"),
            ("ADDED", "EndpointSlice", "web"),
            ("DELETED", "Node", "n1"),
        ]
        assert replayed[2][1] == {
            "revision": 3,
            "type": "ADDED",
            "kind": "Service",
            "namespace": "team-a",
            "name": "web",
        }
        client.patch(
            "/v1/namespaces/team-a/services/web",
            json={"metadata": {"labels": {"a": "b"}}},
            headers={"Content-Type": "application/merge-patch+json"},
        ).raise_for_status()
        client.delete("/v1/namespaces/team-a").raise_for_status()
        followed = reader.take(4)
        # One write, one revision: the namespace and everything it held go at revision 7.
        assert [(r, d["type"], d["kind"]) for r, d in followed] == [
            (6, "MODIFIED", "Service"),
            (7, "DELETED", "EndpointSlice"),
            (7, "DELETED", "Namespace"),
            (7, "DELETED", "Service"),
        ]


def test_since_and_last_event_id_resume(server: LiveServer) -> None:
    write_some(server.client())
    with EventReader(f"{server.url}/v1/events?since=3") as reader:
        assert [r for r, _ in reader.take(2)] == [4, 5]
    with EventReader(f"{server.url}/v1/events?since=0", {"Last-Event-ID": "4"}) as reader:
        assert [r for r, _ in reader.take(1)] == [5]


def test_no_since_follows_from_now(server: LiveServer) -> None:
    client = server.client()
    write_some(client)
    with EventReader(f"{server.url}/v1/events") as reader:
        client.put("/v1/nodes/n9", json={"spec": {"addresses": ["192.0.2.9"]}}).raise_for_status()
        ((revision, data),) = reader.take(1)
        assert (revision, data["name"]) == (6, "n9")


def test_since_older_than_the_log_is_410(server: LiveServer, database_url: str) -> None:
    write_some(server.client())
    store = IntentStore(create_store_engine(database_url))
    assert store.compact(retain=2) == 3
    store.engine.dispose()
    gone = server.client().get("/v1/events", params={"since": 1})
    assert gone.status_code == 410
    assert gone.headers["content-type"] == "application/problem+json"
    assert gone.json()["oldestRevision"] == 4
    with EventReader(f"{server.url}/v1/events?since=3") as reader:
        assert [r for r, _ in reader.take(2)] == [4, 5]


def test_a_write_on_one_replica_reaches_a_stream_on_another(fresh_postgres_url: str) -> None:
    url = fresh_postgres_url
    with (
        LiveServer(url) as first,
        LiveServer(url) as second,
        EventReader(f"{second.url}/v1/events?since=0") as reader,
    ):
        first.client().put(
            "/v1/nodes/n1", json={"spec": {"addresses": ["192.0.2.1"]}}
        ).raise_for_status()
        ((revision, data),) = reader.take(1, timeout=5)
        assert (revision, data["kind"], data["name"]) == (1, "Node", "n1")
