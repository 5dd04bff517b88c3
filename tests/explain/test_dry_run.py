"""dryRun=All: full validation, nothing stored, and a per-node plan equal to what the agents
then receive when the same write is made for real (real API on PostgreSQL, real agents; the
checks also on SQLite)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from switchyard_api.explain.plan import render
from tests.api.support import LiveServer
from tests.api.test_events import EventReader
from tests.distribution.agents import AgentFleet, RunningAgent
from tests.waiting import wait_for

NODES = ("n1", "n2")
POLICY = {
    "metadata": {"name": "web-in"},
    "spec": {
        "podSelector": {"matchLabels": {"app": "web"}},
        "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "client"}}}]}],
    },
}


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[AgentFleet]:
    fleet = AgentFleet(tmp_path / "agents")
    yield fleet
    fleet.close()


def seed(client: httpx.Client) -> dict[str, str]:
    client.put("/v1/namespaces/x", json={"spec": {}}).raise_for_status()
    tokens = {}
    for index, node in enumerate(NODES, start=1):
        spec = {"addresses": [f"192.0.2.{index}"], "uplinkInterface": "uplink0"}
        client.put(f"/v1/nodes/{node}", json={"spec": spec}).raise_for_status()
        tokens[node] = client.post("/v1/tokens", json={"role": "node", "node": node}).json()[
            "token"
        ]
    pods = [("web-1", "n1", "10.1.1.2", "web"), ("web-2", "n2", "10.1.2.2", "web")]
    pods.append(("client", "n1", "10.1.1.3", "client"))
    for name, node, ip, app in pods:
        body = {
            "metadata": {"labels": {"app": app}},
            "spec": {"nodeName": node, "podIPs": [ip], "interface": f"tap-{name}"},
        }
        client.put(f"/v1/namespaces/x/pods/{name}", json=body).raise_for_status()
    return tokens


def revision(client: httpx.Client) -> int:
    return int(client.get("/v1/status").json()["revision"])


def applied(client: httpx.Client, at: int) -> bool:
    nodes = client.get("/v1/status").json()["nodes"]
    return all(n["connected"] and (n["appliedRevision"] or 0) >= at for n in nodes)


def deltas_sent(server: LiveServer) -> float:
    for line in httpx.get(f"{server.url}/metrics").text.splitlines():
        if line.startswith('switchyard_distribution_messages_total{type="delta"}'):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    return {
        "added": sorted(after.keys() - before.keys()),
        "changed": sorted(k for k in after.keys() & before.keys() if after[k] != before[k]),
        "removed": sorted(before.keys() - after.keys()),
    }


def received(agents: dict[str, RunningAgent]) -> dict[str, dict[str, Any]]:
    """What each agent holds from the controller: every snapshot and delta it received,
    decoded by the real wire codec (its persisted last configuration)."""
    found = {}
    for node, agent in agents.items():
        persisted = agent.agent.store.load()
        found[node] = dict(persisted.objects) if persisted is not None else {}
    return found


def received_at(agents: dict[str, RunningAgent], at: int) -> bool:
    return all(
        (p := a.agent.store.load()) is not None and p.revision >= at for a in agents.values()
    )


def test_a_dry_run_policy_create_plans_exactly_what_the_agents_then_receive(
    fresh_postgres_url: str, fleet: AgentFleet
) -> None:
    with LiveServer(fresh_postgres_url) as server:
        client = server.client()
        tokens = seed(client)
        api = f"127.0.0.1:{server.app.state.distribution.port}"
        agents = {node: fleet.start(node, tokens[node], api) for node in NODES}
        start = revision(client)
        wait_for(lambda: applied(client, start) and received_at(agents, start), timeout=20)
        before = received(agents)
        time.sleep(1.2)  # let the connection's own deltas settle before counting
        sent = deltas_sent(server)

        with EventReader(f"{server.url}/v1/events") as events:
            path = "/v1/namespaces/x/network-policies"
            response = client.post(f"{path}?dryRun=All&verbose", json=POLICY)
            assert response.status_code == 201, response.text
            document = response.json()
            # the object as it would be stored
            assert document["kind"] == "NetworkPolicy"
            assert document["metadata"]["name"] == "web-in"
            assert document["metadata"]["resourceVersion"] == str(start + 1)
            assert document["spec"]["podSelector"]["matchLabels"] == {"app": "web"}
            plan = document["plan"]

            # nothing stored: no revision, no object, no event, no delta to any agent
            assert revision(client) == start
            assert client.get(f"{path}/web-in").status_code == 404
            time.sleep(1.5)  # more than the distributor's catch-up interval
            assert events.events.empty()
            assert deltas_sent(server) == sent
            assert received(agents) == before

            created = client.post(path, json=POLICY)
            assert created.status_code == 201
            done = int(created.json()["metadata"]["resourceVersion"])
            assert done == start + 1
            wait_for(lambda: received_at(agents, done), timeout=20)
            assert events.take(1)[0][0] == done

    after = received(agents)
    deltas = {node: diff(before[node], after[node]) for node in NODES}
    deltas = {node: d for node, d in deltas.items() if any(d.values())}
    planned = {
        node: {what: sorted(entry[what]) for what in ("added", "changed", "removed")}
        for node, entry in plan["nodes"].items()
    }
    assert planned == deltas
    # each pod node gets the binding of its web pod and the shared ACLs
    assert "acl-binding/tap-web-1" in planned["n1"]["added"]
    assert "acl-binding/tap-web-2" in planned["n2"]["added"]
    assert plan["counts"]["nodes"] == 2
    assert plan["counts"]["added"] == sum(len(d["added"]) for d in deltas.values())
    for node, entry in plan["nodes"].items():
        assert entry["counts"]["added"] == len(entry["added"])
        for key in entry["added"]:  # ?verbose: the values are what the agents now hold
            held = json.loads(json.dumps(render(after[node][key])))
            assert entry["values"][key]["after"] == held


def test_dry_run_runs_the_validation_and_conflict_checks(database_url: str) -> None:
    with LiveServer(database_url) as server:
        client = server.client()
        seed(client)
        start = revision(client)
        path = "/v1/namespaces/x/network-policies"
        bad = {"metadata": {"name": "bad"}, "spec": {"podSelector": {}, "policyTypes": ["Up"]}}
        response = client.post(f"{path}?dryRun=All", json=bad)
        assert response.status_code == 422
        assert response.headers["content-type"].startswith("application/problem+json")
        client.post(path, json=POLICY).raise_for_status()
        again = client.post(f"{path}?dryRun=All", json=POLICY)
        assert again.status_code == 409
        wrong = client.post(f"{path}?dryRun=Some", json=POLICY)
        assert wrong.status_code == 422
        assert "dryRun" in wrong.text
        # a dry-run delete plans the removal and keeps the object
        gone = client.delete(f"{path}/web-in?dryRun=All")
        assert gone.status_code == 200
        removed = gone.json()["plan"]["nodes"]["n1"]["removed"]
        assert "acl-binding/tap-web-1" in removed
        assert client.get(f"{path}/web-in").status_code == 200
        assert revision(client) == start + 1
        # without verbose the plan has keys and counts, no values
        assert "values" not in gone.json()["plan"]["nodes"]["n1"]
