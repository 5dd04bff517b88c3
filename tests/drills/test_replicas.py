"""Drill: two API replicas (real processes on PostgreSQL), agents pointed at both; one
replica is killed with SIGKILL while writes stream. The agents resume by delta through the
other replica, and the status the survivor serves is truthful all along."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.distribution.agents import AgentFleet
from tests.distribution.test_end_to_end import backends, seed, set_endpoints
from tests.waiting import wait_for

from .processes import ApiProcess

pytestmark = pytest.mark.slow
FAILOVER_NODES = ("n1", "n2", "n3")
REPLICA_TIMEOUT = 2.0
# The survivor's age-out runs every heartbeat (1 s); give a loaded machine as much again.
AGE_OUT_BOUND = REPLICA_TIMEOUT + 1.0 + 3.0


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[AgentFleet]:
    fleet = AgentFleet(tmp_path / "agents")
    yield fleet
    fleet.close()


class StatusMonitor(threading.Thread):
    """Samples /v1/status of one replica until stopped."""

    def __init__(self, client: httpx.Client) -> None:
        super().__init__(daemon=True)
        self.client = client
        self.samples: list[tuple[float, dict[str, dict[str, Any]]]] = []
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            try:
                body = self.client.get("/v1/status").json()
                self.samples.append((time.monotonic(), {n["name"]: n for n in body["nodes"]}))
            except httpx.HTTPError:
                pass
            self.halt.wait(0.1)


class Writer(threading.Thread):
    """Endpoint writes, ~10 a second, until stopped; every answer must be 2xx."""

    def __init__(self, client: httpx.Client) -> None:
        super().__init__(daemon=True)
        self.client = client
        self.revisions: list[int] = []
        self.halt = threading.Event()

    def run(self) -> None:
        index = 0
        while not self.halt.is_set():
            index += 1
            self.revisions.append(set_endpoints(self.client, f"10.1.1.{10 + index % 200}"))
            self.halt.wait(0.1)


def test_replica_killed_mid_stream_agents_converge_through_the_other(
    fresh_postgres_url: str, fleet: AgentFleet, tmp_path: Path
) -> None:
    def replica(name: str) -> ApiProcess:
        return ApiProcess(
            fresh_postgres_url,
            tmp_path / f"{name}.log",
            replica=name,
            replica_timeout=REPLICA_TIMEOUT,
            catch_up_interval=1.0,
            log_level="warning",
        )

    replica_a, replica_b = replica("replica-a"), replica("replica-b")
    try:
        replica_b.start()
        client = replica_b.client()
        tokens = seed(client)
        with replica_b.client() as extra:  # the fourth node
            extra.put("/v1/nodes/n4", json={"spec": {"addresses": ["192.0.2.4"]}})
            tokens["n4"] = extra.post("/v1/tokens", json={"role": "node", "node": "n4"}).json()[
                "token"
            ]
        replica_a.start()
        both = f"{replica_a.grpc_target},{replica_b.grpc_target}"
        for name in FAILOVER_NODES:
            fleet.start(name, tokens[name], both)
        # n4 knows only replica A: after the kill it must be shown disconnected.
        fleet.start("n4", tokens["n4"], replica_a.grpc_target)
        everyone = (*FAILOVER_NODES, "n4")

        def on(replica: str, revision: int, nodes: tuple[str, ...]) -> bool:
            current = {n["name"]: n for n in client.get("/v1/status").json()["nodes"]}
            return all(
                current[n]["connected"]
                and current[n]["replica"] == replica
                and (current[n]["appliedRevision"] or 0) >= revision
                for n in nodes
            )

        start = client.get("/readyz").json()["revision"]
        wait_for(lambda: on("replica-a", start, everyone), timeout=20, what="all on replica A")
        snapshots_before = replica_b.metric(
            'switchyard_distribution_messages_total{type="snapshot"}'
        )

        monitor = StatusMonitor(replica_b.client())
        writer = Writer(replica_b.client())
        monitor.start()
        writer.start()
        time.sleep(1.0)
        replica_a.kill()
        killed_at = time.monotonic()
        time.sleep(2.0)
        writer.halt.set()
        writer.join(timeout=15)
        final = set_endpoints(client, "10.1.1.250")
        wait_for(
            lambda: on("replica-b", final, FAILOVER_NODES),
            timeout=30,
            what="the agents converged through replica B",
        )
        for name in FAILOVER_NODES:
            assert backends(fleet.agents[name]) == ["10.1.1.250"]
        wait_for(
            lambda: not client.get("/v1/nodes/n4").json()["status"]["connected"],
            timeout=AGE_OUT_BOUND + 5,
            what="n4 shown disconnected",
        )
        time.sleep(max(1.0, killed_at + AGE_OUT_BOUND + 1.0 - time.monotonic()))
        monitor.halt.set()
        monitor.join(timeout=5)

        # Resumed by delta: replica B sent no snapshot to the agents that moved over.
        snapshots = replica_b.metric('switchyard_distribution_messages_total{type="snapshot"}')
        assert snapshots == snapshots_before
        assert len(writer.revisions) >= 10
        # Truthful throughout: never "connected through A" once A's age-out is due, and n4
        # (which cannot fail over) disconnected from then on.
        late = [(t, nodes) for t, nodes in monitor.samples if t > killed_at + AGE_OUT_BOUND]
        assert late, "the monitor sampled after the age-out bound"
        for _, nodes in late:
            for name, state in nodes.items():
                assert not (state["connected"] and state["replica"] == "replica-a"), (name, state)
            assert nodes["n4"]["connected"] is False
        for _, nodes in monitor.samples:
            for name in FAILOVER_NODES:
                state = nodes[name]
                assert state["replica"] in ("replica-a", "replica-b"), state
    finally:
        replica_a.stop()
        replica_b.stop()
