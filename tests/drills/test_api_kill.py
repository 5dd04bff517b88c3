"""Drill: the API process is killed with SIGKILL under 20 writes/s and started again. Every
write that was answered 2xx is there, the event log replays without a gap, and the agents
converge on the last state."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.support import ADMIN_TOKEN
from tests.distribution.agents import AgentFleet
from tests.waiting import wait_for

from .processes import ApiProcess
from .support import (
    NODES,
    SteadyWriter,
    committed_revisions,
    event_revisions,
    half_written,
    seed,
)

FRONTEND = "frontend/TCP/10.96.0.10/80"
pytestmark = pytest.mark.slow


def endpoint_write(client: httpx.Client, index: int) -> httpx.Response:
    address = f"10.1.1.{index % 250 + 2}"
    body = {"endpoints": [{"addresses": [address], "nodeName": "n1"}]}
    return client.put("/v1/namespaces/default/services/web/endpoints", json=body)


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[AgentFleet]:
    fleet = AgentFleet(tmp_path / "agents")
    yield fleet
    fleet.close()


def test_api_kill_9_under_20_writes_per_second(
    fresh_postgres_url: str, fleet: AgentFleet, tmp_path: Path
) -> None:
    api = ApiProcess(fresh_postgres_url, tmp_path / "api.log")
    api.start()
    try:
        with api.client() as client:
            tokens = seed(client)
        agents = {node: fleet.start(node, tokens[node], api.grpc_target) for node in NODES}
        writer = SteadyWriter(api.url, ADMIN_TOKEN, endpoint_write, per_second=20).start()
        time.sleep(3)
        killed_at = time.monotonic()
        api.kill()
        time.sleep(1)
        api.start()
        started_at = time.monotonic()
        time.sleep(3)
        outcomes = writer.stop()

        succeeded = writer.succeeded()
        assert len(outcomes) >= 100, len(outcomes)  # ~20/s for 7 s and more
        # Writes went through before the kill and after the restart, and some met the dead API.
        assert len([o for o in succeeded if o.sent_at < killed_at]) >= 10, outcomes
        assert len([o for o in succeeded if o.sent_at > started_at]) >= 10, outcomes
        assert any(o.status is None for o in outcomes)
        assert not [o for o in outcomes if o.status is not None and o.status >= 500]
        with api.client() as client:
            # Every 2xx write is in the log, which replays exactly what PostgreSQL committed.
            current = int(client.get("/readyz").json()["revision"])
            replayed = event_revisions(client, current)
            assert replayed == committed_revisions(fresh_postgres_url)
            assert replayed == sorted(set(replayed))
            missing = {o.revision for o in succeeded} - set(replayed)
            assert not missing, f"2xx writes not in the event log: {sorted(missing)}"
            assert half_written(fresh_postgres_url) == []
            final = client.get("/v1/namespaces/default/services/web/endpoints").json()
            final_revision = int(final["metadata"]["resourceVersion"])
            assert final_revision >= max(o.revision or 0 for o in succeeded)
            wanted = sorted(a for e in final["endpoints"] for a in e["addresses"])

            def converged() -> bool:
                nodes = {n["name"]: n for n in client.get("/v1/status").json()["nodes"]}
                return all(
                    nodes[node]["connected"]
                    and (nodes[node]["appliedRevision"] or 0) >= final_revision
                    for node in NODES
                )

            wait_for(converged, timeout=30, what="agents at the final revision")
        for running in agents.values():
            frontend = running.held().get(FRONTEND)
            assert frontend is not None
            assert sorted(b.address for b in frontend.backends) == wanted  # type: ignore[attr-defined]
    finally:
        api.stop()
