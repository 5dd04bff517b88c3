"""Drill: the agent's gRPC stream runs through a TCP proxy on loopback; the proxy cuts it
(and refuses new connections for a while) as changes are written. The agent reconnects and
resumes by delta: no snapshot is sent again, and it converges."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.support import LiveServer
from tests.distribution.agents import AgentFleet
from tests.distribution.test_end_to_end import (
    all_at,
    backends,
    metric,
    seed,
    set_endpoints,
    status,
)
from tests.waiting import wait_for

from .tcp_proxy import TcpProxy

pytestmark = pytest.mark.slow
SNAPSHOTS = 'switchyard_distribution_messages_total{type="snapshot"}'
DELTAS = 'switchyard_distribution_messages_total{type="delta"}'


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[AgentFleet]:
    fleet = AgentFleet(tmp_path / "agents")
    yield fleet
    fleet.close()


def test_stream_cut_by_the_proxy_resumes_by_delta(
    fresh_postgres_url: str, fleet: AgentFleet
) -> None:
    with LiveServer(fresh_postgres_url) as server:
        client = server.client()
        tokens = seed(client)
        with TcpProxy("127.0.0.1", server.app.state.distribution.port) as proxy:
            running = fleet.start("n1", tokens["n1"], f"127.0.0.1:{proxy.port}")
            wait_for(lambda: all_at(client, status(client)["revision"], ("n1",)))
            snapshots, deltas = metric(server, SNAPSHOTS), metric(server, DELTAS)
            assert snapshots == 1 and proxy.connections == 1
            for round_ in range(3):
                assert proxy.down() == 2  # cut: the agent's side and the API's side
                wait_for(
                    lambda: not status(client)["nodes"][0]["connected"],
                    what="the API saw the stream end",
                )
                revision = set_endpoints(client, f"10.1.1.{20 + round_}")
                time.sleep(0.5)  # the agent retries against a closed door meanwhile
                assert backends(running) == [f"10.1.1.{19 + round_}" if round_ else "10.1.1.5"]
                proxy.up()
                wait_for(lambda r=revision: all_at(client, r, ("n1",)), what="resumed, converged")
                assert backends(running) == [f"10.1.1.{20 + round_}"]
            assert metric(server, SNAPSHOTS) == snapshots  # every resume was a delta
            assert metric(server, DELTAS) >= deltas + 3
            assert proxy.connections >= 4
