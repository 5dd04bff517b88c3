"""Agents with several API replicas: addresses, failover with resume by delta, a DNS name with
several replicas, and the status of a dead replica's nodes aging out."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from switchyard_agent.cli import build_parser, load_settings, main
from switchyard_api.distribution.liveness import ReplicaLiveness
from switchyard_api.distribution.status import NodeStatusRecorder
from switchyard_api.store.db import create_store_engine
from switchyard_api.store.store import IntentStore
from tests.api.support import LiveServer, free_port
from tests.drills.processes import ReplicaDns
from tests.waiting import wait_for

from .agents import AgentFleet
from .test_end_to_end import all_at, backends, metric, seed, set_endpoints, status


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[AgentFleet]:
    fleet = AgentFleet(tmp_path / "agents")
    yield fleet
    fleet.close()


def node(client: object, name: str) -> dict[str, object]:
    return next(n for n in status(client)["nodes"] if n["name"] == name)  # type: ignore[arg-type]


def test_api_takes_several_addresses_repeated_or_as_a_comma_list(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    common = ["--node", "n1", "--token", "t", "--state-dir", str(tmp_path)]
    args = build_parser().parse_args(["--api", "a.example:9090", "--api", "b:1,[::1]:2", *common])
    assert load_settings(args).api_targets == ("a.example:9090", "b:1", "[::1]:2")
    args = build_parser().parse_args(["--api", "dns:///replicas.example:9090", *common])
    assert load_settings(args).api_targets == ("dns:///replicas.example:9090",)
    args = build_parser().parse_args(["--api", "dns://10.0.0.53:53/replicas.example:9090", *common])
    assert load_settings(args).api_targets == ("dns://10.0.0.53:53/replicas.example:9090",)
    monkeypatch.setenv("SWITCHYARD_API", "a:1, b:2")
    assert load_settings(build_parser().parse_args(common)).api_targets == ("a:1", "b:2")


@pytest.mark.parametrize("api", ["A,B", "a:1,B", "dns:///nameonly", "dns://server"])
def test_an_address_without_a_port_is_refused(
    api: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--api", api, "--node", "n1", "--token", "t", "--state-dir", str(tmp_path)]
    assert main(argv) == 2
    assert "--api (or SWITCHYARD_API)" in capsys.readouterr().err


def test_agent_fails_over_to_the_next_replica_and_resumes_by_delta(
    fresh_postgres_url: str, fleet: AgentFleet
) -> None:
    with LiveServer(fresh_postgres_url, replica_id="replica-b") as replica_b:
        client = replica_b.client()
        tokens = seed(client)
        with LiveServer(fresh_postgres_url, replica_id="replica-a") as replica_a:
            targets = [
                f"127.0.0.1:{replica.app.state.distribution.port}"
                for replica in (replica_a, replica_b)
            ]
            fleet.start("n1", tokens["n1"], ",".join(targets))
            wait_for(lambda: all_at(client, status(client)["revision"], ("n1",)))
            assert node(client, "n1")["replica"] == "replica-a"
        # Replica A is gone: the agent moves to B and resumes from the revision it holds.
        revision = set_endpoints(client, "10.1.1.9")
        wait_for(lambda: all_at(client, revision, ("n1",)), what="n1 converged through B")
        assert node(client, "n1")["replica"] == "replica-b"
        assert backends(fleet.agents["n1"]) == ["10.1.1.9"]
        snapshots = 'switchyard_distribution_messages_total{type="snapshot"}'
        assert metric(replica_b, snapshots) == 0
        assert metric(replica_b, 'switchyard_distribution_messages_total{type="delta"}') >= 1


def test_a_name_that_resolves_to_several_replicas(
    fresh_postgres_url: str, fleet: AgentFleet
) -> None:
    port = free_port()
    with (
        ReplicaDns("replicas.switchyard.test", ["127.0.0.2", "127.0.0.3"]) as dns,
        LiveServer(fresh_postgres_url, grpc_listen=f"127.0.0.3:{port}", replica_id="b") as b,
    ):
        client = b.client()
        tokens = seed(client)
        with LiveServer(fresh_postgres_url, grpc_listen=f"127.0.0.2:{port}", replica_id="a"):
            fleet.start("n1", tokens["n1"], dns.target(port))
            wait_for(lambda: all_at(client, status(client)["revision"], ("n1",)))
            assert node(client, "n1")["replica"] == "a"  # the first address that answers
        revision = set_endpoints(client, "10.1.1.4")
        wait_for(lambda: all_at(client, revision, ("n1",)), what="n1 through the other address")
        assert node(client, "n1")["replica"] == "b"
        assert backends(fleet.agents["n1"]) == ["10.1.1.4"]


def test_nodes_of_a_replica_that_stopped_heart_beating_are_shown_disconnected(
    fresh_postgres_url: str, fleet: AgentFleet
) -> None:
    with LiveServer(fresh_postgres_url, replica_id="live", replica_timeout=1.0) as live:
        client = live.client()
        tokens = seed(client)
        fleet.start("n2", tokens["n2"], f"127.0.0.1:{live.app.state.distribution.port}")
        wait_for(lambda: all_at(client, status(client)["revision"], ("n2",)))
        # A replica that held n1, beat once, and died without a word.
        store = IntentStore(create_store_engine(fresh_postgres_url))
        recorder = NodeStatusRecorder(store, "dead")
        ReplicaLiveness(store, recorder, "dead").beat()
        recorder.connected("n1", "test", None)
        recorder.flush()
        store.engine.dispose()
        assert node(client, "n1")["connected"] is True
        started = time.monotonic()
        wait_for(lambda: node(client, "n1")["connected"] is False, what="n1 aged out")
        assert time.monotonic() - started < 4.0
        body = client.get("/v1/nodes/n1").json()
        assert body["status"]["connected"] is False and body["status"]["replica"] == "dead"
        # The live replica's node is left alone: its heartbeat moves.
        time.sleep(2.5)
        assert node(client, "n2")["connected"] is True and node(client, "n2")["replica"] == "live"
