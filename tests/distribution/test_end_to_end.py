"""API + real agents over gRPC on PostgreSQL: convergence, resume, restarts, replicas, NACKs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.support import LiveServer, free_port
from tests.waiting import wait_for

from .agents import AgentFleet

NODES = ("n1", "n2", "n3")
FRONTEND = "frontend/TCP/10.96.0.10/80"


def seed(client: httpx.Client) -> dict[str, str]:
    client.put("/v1/namespaces/default", json={"spec": {}}).raise_for_status()
    tokens = {}
    for index, node in enumerate(NODES, start=1):
        spec = {"spec": {"addresses": [f"192.0.2.{index}"], "podCIDRs": [f"10.1.{index}.0/24"]}}
        client.put(f"/v1/nodes/{node}", json=spec).raise_for_status()
        created = client.post("/v1/tokens", json={"role": "node", "node": node})
        tokens[node] = created.json()["token"]
    service = {"spec": {"clusterIPs": ["10.96.0.10"], "ports": [{"port": 80, "targetPort": 8080}]}}
    client.put("/v1/namespaces/default/services/web", json=service).raise_for_status()
    set_endpoints(client, "10.1.1.5")
    return tokens


def set_endpoints(client: httpx.Client, *addresses: str) -> int:
    body = {"endpoints": [{"addresses": [a], "nodeName": "n1"} for a in addresses]}
    response = client.put("/v1/namespaces/default/services/web/endpoints", json=body)
    response.raise_for_status()
    return int(response.json()["metadata"]["resourceVersion"])


def status(client: httpx.Client) -> dict[str, Any]:
    body: dict[str, Any] = client.get("/v1/status").json()
    return body


def all_at(client: httpx.Client, revision: int, nodes: tuple[str, ...] = NODES) -> bool:
    current = {n["name"]: n for n in status(client)["nodes"]}
    return all(
        current[node]["connected"] and (current[node]["appliedRevision"] or 0) >= revision
        for node in nodes
    )


def backends(running: Any) -> list[str]:
    frontend = running.held().get(FRONTEND)
    return sorted(b.address for b in frontend.backends) if frontend is not None else []


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[AgentFleet]:
    fleet = AgentFleet(tmp_path / "agents")
    yield fleet
    fleet.close()


def metric(server: LiveServer, name: str) -> float:
    text = httpx.get(f"{server.url}/metrics").text
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_three_agents_ack_a_write_and_status_shows_them_current(
    fresh_postgres_url: str, fleet: AgentFleet
) -> None:
    with LiveServer(fresh_postgres_url) as server:
        client = server.client()
        tokens = seed(client)
        api = f"127.0.0.1:{server.app.state.distribution.port}"
        agents = [fleet.start(node, tokens[node], api) for node in NODES]
        revision = set_endpoints(client, "10.1.1.5", "10.1.1.6")
        wait_for(lambda: all_at(client, revision), what="all nodes at the new revision")
        body = status(client)
        assert body["revision"] == revision
        assert [(n["name"], n["lag"], n["lastError"]) for n in body["nodes"]] == [
            (node, 0, None) for node in NODES
        ]
        for running in agents:
            assert backends(running) == ["10.1.1.5", "10.1.1.6"]
            assert "snat" in running.held()
        node = client.get("/v1/nodes/n2").json()
        assert node["status"]["connected"] is True
        assert node["status"]["appliedRevision"] == revision


def test_agent_killed_and_restarted_resumes_with_a_delta(
    fresh_postgres_url: str, fleet: AgentFleet
) -> None:
    with LiveServer(fresh_postgres_url) as server:
        client = server.client()
        tokens = seed(client)
        api = f"127.0.0.1:{server.app.state.distribution.port}"
        first = fleet.start("n1", tokens["n1"], api)
        wait_for(lambda: all_at(client, status(client)["revision"], ("n1",)))
        snapshots = metric(server, 'switchyard_distribution_messages_total{type="snapshot"}')
        fleet.stop("n1")
        wait_for(lambda: not status(client)["nodes"][0]["connected"], what="n1 disconnected")
        revision = set_endpoints(client, "10.1.1.9")
        # Same state directory and the same (recording) dataplane: a restarted process.
        again = fleet.start("n1", tokens["n1"], api, driver=first.driver)
        wait_for(lambda: all_at(client, revision, ("n1",)), what="n1 converged")
        assert backends(again) == ["10.1.1.9"]
        assert (
            metric(server, 'switchyard_distribution_messages_total{type="snapshot"}') == snapshots
        )
        assert metric(server, 'switchyard_distribution_messages_total{type="delta"}') >= 1


def test_api_restart_agents_reconnect_and_converge(
    fresh_postgres_url: str, fleet: AgentFleet
) -> None:
    port = free_port()
    with LiveServer(fresh_postgres_url, grpc_listen=f"127.0.0.1:{port}") as server:
        client = server.client()
        tokens = seed(client)
        agents = [fleet.start(node, tokens[node], f"127.0.0.1:{port}") for node in NODES]
        wait_for(lambda: all_at(client, status(client)["revision"]))
    # The API is down: agents keep their configuration (fail static).
    assert all(backends(a) == ["10.1.1.5"] for a in agents)
    with LiveServer(fresh_postgres_url, grpc_listen=f"127.0.0.1:{port}") as server:
        client = server.client()
        revision = set_endpoints(client, "10.1.1.7")
        wait_for(lambda: all_at(client, revision), timeout=15, what="reconnect and converge")
        assert all(backends(a) == ["10.1.1.7"] for a in agents)


def test_write_on_one_replica_reaches_an_agent_of_another_by_notify(
    fresh_postgres_url: str, fleet: AgentFleet
) -> None:
    # Replica B reads the change log only every 30 s: prompt delivery proves NOTIFY.
    with (
        LiveServer(fresh_postgres_url) as replica_a,
        LiveServer(fresh_postgres_url, catch_up_interval=30) as replica_b,
    ):
        tokens = seed(replica_a.client())
        running = fleet.start(
            "n1", tokens["n1"], f"127.0.0.1:{replica_b.app.state.distribution.port}"
        )
        wait_for(lambda: backends(running) == ["10.1.1.5"], what="first config via replica B")
        set_endpoints(replica_a.client(), "10.1.1.8")
        wait_for(lambda: backends(running) == ["10.1.1.8"], timeout=5, what="delivery by NOTIFY")
        assert replica_b.client().get("/v1/status").json()["nodes"][0]["connected"] is True


def test_a_dropped_notify_is_delivered_by_the_catch_up_read(
    fresh_postgres_url: str, fleet: AgentFleet
) -> None:
    # Replica B never hears NOTIFY: only its periodic read of the change log can deliver.
    with (
        LiveServer(fresh_postgres_url) as replica_a,
        LiveServer(fresh_postgres_url, notify_listen=False, catch_up_interval=0.5) as replica_b,
    ):
        tokens = seed(replica_a.client())
        running = fleet.start(
            "n2", tokens["n2"], f"127.0.0.1:{replica_b.app.state.distribution.port}"
        )
        wait_for(lambda: backends(running) == ["10.1.1.5"])
        set_endpoints(replica_a.client(), "10.1.1.4")
        wait_for(lambda: backends(running) == ["10.1.1.4"], timeout=5, what="catch-up delivery")


def test_driver_failure_is_nacked_visible_over_rest_and_cleared(
    fresh_postgres_url: str, fleet: AgentFleet
) -> None:
    with LiveServer(fresh_postgres_url) as server:
        client = server.client()
        tokens = seed(client)
        api = f"127.0.0.1:{server.app.state.distribution.port}"
        running = fleet.start("n1", tokens["n1"], api)
        wait_for(lambda: all_at(client, status(client)["revision"], ("n1",)))
        running.driver.vpp.fail(key=FRONTEND, message="VPP refused the translation")
        revision = set_endpoints(client, "10.1.1.5", "10.1.1.6")

        def n1_error() -> Any:
            node = status(client)["nodes"][0]
            return node["appliedRevision"] == revision and node["errors"] and node

        node = wait_for(n1_error, what="NACK visible")
        assert node["errors"][0]["key"] == FRONTEND
        assert "VPP refused the translation" in node["errors"][0]["message"]
        assert FRONTEND in node["lastError"]
        assert backends(running) == ["10.1.1.5"]  # the failed object kept its last good state
        assert "snat" in running.held()  # the rest stays applied
        service = client.get("/v1/namespaces/default/services/web").json()
        assert service["status"]["failures"] == [
            {"node": "n1", "key": FRONTEND, "message": node["errors"][0]["message"]}
        ]
        assert service["status"]["totalNodes"] == 3  # n2 and n3 run no agent here
        endpoints = client.get("/v1/namespaces/default/services/web/endpoints").json()
        # n1 processed the revision but did not apply what came from this object.
        assert endpoints["status"]["appliedNodes"] == 0
        assert endpoints["status"]["failures"][0]["key"] == FRONTEND
        [held] = endpoints["status"]["notAppliedNodes"]
        assert held["node"] == "n1" and FRONTEND in held["reason"]
        running.driver.vpp.clear_faults()
        revision = set_endpoints(client, "10.1.1.6")
        wait_for(
            lambda: (
                (n := status(client)["nodes"][0])["appliedRevision"] == revision
                and n["lastError"] is None
            ),
            what="the next good revision clears the error",
        )
        assert backends(running) == ["10.1.1.6"]
        service = client.get("/v1/namespaces/default/services/web").json()
        assert service["status"]["failures"] == []
        endpoints = client.get("/v1/namespaces/default/services/web/endpoints").json()
        assert endpoints["status"]["appliedNodes"] == 1
        assert endpoints["status"]["notAppliedNodes"] == []


def test_compile_errors_show_on_the_object_and_in_status(fresh_postgres_url: str) -> None:
    with LiveServer(fresh_postgres_url) as server:
        client = server.client()
        seed(client)
        lb = {
            "spec": {
                "vip": "203.0.113.10/32",
                "port": 80,
                "encap": "l3dsr",
                "dscp": 10,
                "lbNodeSelector": {},
                "backends": {"service": {"namespace": "default", "name": "missing"}},
            }
        }
        client.put("/v1/load-balancers/lb1", json=lb).raise_for_status()

        def reported() -> Any:
            body = client.get("/v1/load-balancers/lb1").json()
            return body["status"]["compileErrors"]

        errors = wait_for(reported, what="compile error on the object")
        assert "missing" in errors[0]["message"]
        listed = status(client)["compileErrors"]
        assert any(e["object"] == "LoadBalancer/lb1" for e in listed)
