"""What the drills share: seeding a cluster, a steady writer, reading the whole event log."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx
import psycopg

NODES = ("n1", "n2")


def seed(client: httpx.Client) -> dict[str, str]:
    client.put("/v1/namespaces/default", json={"spec": {}}).raise_for_status()
    tokens = {}
    for index, node in enumerate(NODES, start=1):
        spec = {"spec": {"addresses": [f"192.0.2.{index}"], "podCIDRs": [f"10.1.{index}.0/24"]}}
        client.put(f"/v1/nodes/{node}", json=spec).raise_for_status()
        created = client.post("/v1/tokens", json={"role": "node", "node": node})
        created.raise_for_status()
        tokens[node] = created.json()["token"]
    service = {"spec": {"clusterIPs": ["10.96.0.10"], "ports": [{"port": 80, "targetPort": 8080}]}}
    client.put("/v1/namespaces/default/services/web", json=service).raise_for_status()
    return tokens


@dataclass
class Outcome:
    index: int
    sent_at: float  # time.monotonic() when sent
    status: int | None  # None: no HTTP answer (connection refused or reset)
    revision: int | None = None


@dataclass
class SteadyWriter:
    """Sends `write(client, index)` at a fixed rate whatever the answers take (open loop, a
    few in flight at once) and keeps every outcome."""

    base_url: str
    token: str
    write: Callable[[httpx.Client, int], httpx.Response]
    per_second: float
    outcomes: list[Outcome] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> SteadyWriter:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> list[Outcome]:
        self._stop.set()
        assert self._thread is not None
        self._thread.join(timeout=60)
        return sorted(self.outcomes, key=lambda o: o.index)

    def _run(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        limits = httpx.Limits(max_connections=16)
        with (
            httpx.Client(base_url=self.base_url, headers=headers, timeout=20, limits=limits) as c,
            ThreadPoolExecutor(max_workers=16) as pool,
        ):
            index = 0
            next_at = time.monotonic()
            while not self._stop.is_set():
                pool.submit(self._one, c, index)
                index += 1
                next_at += 1 / self.per_second
                time.sleep(max(0.0, next_at - time.monotonic()))

    def _one(self, client: httpx.Client, index: int) -> None:
        sent_at = time.monotonic()
        try:
            response = self.write(client, index)
            revision = None
            if response.is_success:
                revision = int(response.json()["metadata"]["resourceVersion"])
            outcome = Outcome(index, sent_at, response.status_code, revision)
        except httpx.TransportError:
            outcome = Outcome(index, sent_at, None)
        with self._lock:
            self.outcomes.append(outcome)

    def succeeded(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status is not None and 200 <= o.status < 300]


def event_revisions(client: httpx.Client, until: int) -> list[int]:
    """Every revision /v1/events replays from 0, read until `until`."""
    revisions: list[int] = []
    if until == 0:
        return revisions
    with client.stream("GET", "/v1/events", params={"since": 0}, timeout=30) as stream:
        for line in stream.iter_lines():
            if line.startswith("data: "):
                revisions.append(int(json.loads(line[6:])["revision"]))
                if revisions[-1] >= until:
                    break
    return revisions


def committed_revisions(database_url: str) -> list[int]:
    """The change log as PostgreSQL holds it (read directly, not through the API)."""
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT revision FROM change_log ORDER BY revision").fetchall()
    return [int(row[0]) for row in rows]


def half_written(database_url: str) -> list[tuple[str, str, str, int]]:
    """Objects whose resourceVersion has no change-log row: a write that was half applied."""
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT o.kind, o.namespace, o.name, o.resource_version FROM objects o "
            "LEFT JOIN change_log c ON c.revision = o.resource_version "
            "WHERE c.revision IS NULL"
        ).fetchall()
    return [(str(r[0]), str(r[1]), str(r[2]), int(r[3])) for r in rows]
