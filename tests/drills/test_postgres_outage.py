"""Drill: PostgreSQL is unreachable for 10 s (a TCP proxy the test runs is cut) while writes
keep coming. The API answers 503 (never 500), /readyz says unready, it recovers by itself
without a restart, nothing is half-written, and the agents converge afterwards."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.api.support import ADMIN_TOKEN
from tests.distribution.agents import AgentFleet
from tests.waiting import wait_for

from .processes import ApiProcess
from .support import NODES, SteadyWriter, committed_revisions, event_revisions, half_written, seed
from .tcp_proxy import TcpProxy

pytestmark = pytest.mark.slow
OUTAGE_SECONDS = 10


def namespace_write(client: httpx.Client, index: int) -> httpx.Response:
    return client.put(f"/v1/namespaces/ns-{index}", json={"spec": {}})


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[AgentFleet]:
    fleet = AgentFleet(tmp_path / "agents")
    yield fleet
    fleet.close()


def test_postgres_unreachable_for_10_seconds(
    fresh_postgres_url: str, fleet: AgentFleet, tmp_path: Path
) -> None:
    target = make_url(fresh_postgres_url)
    with TcpProxy(target.host or "127.0.0.1", target.port or 5432) as proxy:
        proxied = target.set(host="127.0.0.1", port=proxy.port).render_as_string(False)
        api = ApiProcess(proxied, tmp_path / "api.log")
        api.start()
        try:
            with api.client() as client:
                tokens = seed(client)
                for node in NODES:
                    fleet.start(node, tokens[node], api.grpc_target)
                writer = SteadyWriter(api.url, ADMIN_TOKEN, namespace_write, per_second=5)
                writer.start()
                time.sleep(2)
                proxy.down()
                down_at = time.monotonic()
                readiness: list[int] = []
                reads: list[int] = []
                while time.monotonic() - down_at < OUTAGE_SECONDS:
                    readiness.append(client.get("/readyz").status_code)
                    reads.append(client.get("/v1/namespaces").status_code)
                    time.sleep(0.5)
                proxy.up()
                wait_for(
                    lambda: client.get("/readyz").status_code == 200,
                    timeout=30,
                    what="ready again without a restart",
                )
                time.sleep(2)
                outcomes = writer.stop()
                assert api.process is not None and api.process.poll() is None  # never restarted

                statuses = {o.status for o in outcomes}
                assert 503 in statuses and 201 in statuses, statuses
                assert statuses <= {201, 503}, outcomes  # no 500, no lost connection
                assert set(readiness) == {503}
                assert set(reads[2:]) == {503}  # the first reads may still be in flight
                # After the outage writes succeed again.
                last = outcomes[-3:]
                assert all(o.status == 201 for o in last), last

                names = {n["metadata"]["name"] for n in _all_namespaces(client)}
                for outcome in outcomes:
                    if outcome.status == 201:
                        assert f"ns-{outcome.index}" in names
                assert half_written(fresh_postgres_url) == []
                current = int(client.get("/readyz").json()["revision"])
                assert event_revisions(client, current) == committed_revisions(fresh_postgres_url)

                # The agents still converge on the state after the outage.
                client.put(
                    "/v1/namespaces/default/services/web/endpoints",
                    json={"endpoints": [{"addresses": ["10.1.1.9"], "nodeName": "n1"}]},
                ).raise_for_status()
                revision = int(client.get("/readyz").json()["revision"])

                def converged() -> bool:
                    nodes = {n["name"]: n for n in client.get("/v1/status").json()["nodes"]}
                    return all(
                        nodes[n]["connected"] and (nodes[n]["appliedRevision"] or 0) >= revision
                        for n in NODES
                    )

                try:
                    wait_for(converged, timeout=60, what="agents converge after the outage")
                except AssertionError:
                    status = client.get("/v1/status").json()
                    raise AssertionError(f"not converged at {revision}: {status}") from None
        finally:
            api.stop()


def _all_namespaces(client: httpx.Client) -> list[dict[str, object]]:
    items: list[dict[str, object]] = client.get("/v1/namespaces").json()["items"]
    return items
