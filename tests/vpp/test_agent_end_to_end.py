"""A real switchyard-agent process with the VPP driver, against the VPP emulator and a real API
on PostgreSQL: a VPP restart is noticed and repaired, an incompatible VPP is refused."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from switchyard_api.store.models import NodeReport
from tests.api.support import LiveServer
from tests.vppemu.harness import Emulator
from tests.waiting import wait_for

pytestmark = pytest.mark.vpp_api

UPLINK = "GigabitEthernet0/8/0"


def translations(emu: Emulator) -> dict[tuple[str, int], list[tuple[str, int]]]:
    return {
        (t["vip"]["addr"], t["vip"]["port"]): [
            (p["dst_ep"]["addr"], p["dst_ep"]["port"]) for p in t["paths"]
        ]
        for t in emu.state()["cnat"]["translations"]
    }


def seed(client: httpx.Client) -> str:
    client.put("/v1/namespaces/default", json={"spec": {}}).raise_for_status()
    node = {
        "spec": {"addresses": ["192.0.2.1"], "podCIDRs": ["10.1.1.0/24"], "uplinkInterface": UPLINK}
    }
    client.put("/v1/nodes/n1", json=node).raise_for_status()
    service = {"spec": {"clusterIPs": ["10.96.0.10"], "ports": [{"port": 80, "targetPort": 8080}]}}
    client.put("/v1/namespaces/default/services/web", json=service).raise_for_status()
    endpoints = {"endpoints": [{"addresses": ["10.1.1.5"], "nodeName": "n1"}]}
    client.put("/v1/namespaces/default/services/web/endpoints", json=endpoints).raise_for_status()
    token: str = client.post("/v1/tokens", json={"role": "node", "node": "n1"}).json()["token"]
    return token


def agent_command(api: str, token: str, socket: str, state: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "switchyard_agent.cli",
        "--api", api,
        "--node", "n1",
        "--token", token,
        "--drivers", "vpp",
        "--vpp-api-socket", socket,
        "--state-dir", str(state),
        "--metrics-listen", "off",
        "--probe-interval", "0.3",
        "--status-interval", "0.5",
        "--reconnect-backoff-min", "0.1",
        "--reconnect-backoff-max", "0.5",
    ]  # fmt: skip


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[Emulator]:
    (tmp_path / "vpp").mkdir()
    emu = Emulator(tmp_path / "vpp").start()
    emu.add_interface(UPLINK)
    yield emu
    emu.stop()


def node_status(client: httpx.Client) -> dict[str, Any]:
    status: dict[str, Any] = client.get("/v1/nodes/n1").json()["status"]
    return status


def acks(server: LiveServer, revision: int) -> int:
    with server.app.state.store.read() as session:
        rows = session.scalars(
            select(NodeReport).where(
                NodeReport.node == "n1",
                NodeReport.revision == revision,
                NodeReport.outcome == "ACK",
            )
        )
        return len(list(rows))


def test_vpp_restart_is_noticed_reapplied_and_acked(
    fresh_postgres_url: str, emulator: Emulator, tmp_path: Path
) -> None:
    with LiveServer(fresh_postgres_url) as server:
        client = server.client()
        token = seed(client)
        revision = client.get("/readyz").json()["revision"]
        api = f"127.0.0.1:{server.app.state.distribution.port}"
        command = agent_command(api, token, emulator.socket_path, tmp_path / "agent")
        agent = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
        try:
            # Slack for a loaded machine: the agent imports vpp_papi and bootstraps VPP's API.
            wait_for(
                lambda: node_status(client)["appliedRevision"] == revision,
                timeout=30,
                what="first ACK",
            )
            wait_for(lambda: acks(server, revision) >= 1, what="ACK stored")
            assert translations(emulator)[("10.96.0.10", 80)] == [("10.1.1.5", 8080)]
            assert node_status(client)["dataplanes"].get("vpp") == "connected"

            emulator.kill()
            wait_for(
                lambda: node_status(client)["dataplanes"].get("vpp") not in (None, "connected"),
                what="the outage visible over REST",
            )
            emulator.restart()
            emulator.add_interface(UPLINK)
            wait_for(lambda: ("10.96.0.10", 80) in translations(emulator), what="re-applied")
            assert translations(emulator)[("10.96.0.10", 80)] == [("10.1.1.5", 8080)]
            # Node setup re-done as well: it waits for the uplink, plugged after the restart,
            # so it may come a moment after the translations.
            wait_for(lambda: bool(emulator.state()["cnat"]["snat"]), what="node SNAT re-applied")
            wait_for(lambda: acks(server, revision) >= 2, what="the revision ACKed again")
            wait_for(lambda: node_status(client)["dataplanes"].get("vpp") == "connected")
            status = node_status(client)
            assert status["appliedRevision"] == revision and status["lastError"] is None
        finally:
            agent.terminate()
            agent.wait(timeout=10)


def test_incompatible_vpp_api_is_refused_at_start(tmp_path: Path) -> None:
    (tmp_path / "vpp").mkdir()
    emu = Emulator(tmp_path / "vpp", corrupt_crcs=("cnat_translation_update",)).start()
    try:
        command = agent_command("127.0.0.1:1", "t", emu.socket_path, tmp_path / "agent")
        result = subprocess.run(command, capture_output=True, text=True, timeout=60, env=os.environ)
        assert result.returncode == 2, result.stderr
        assert "refusing to start" in result.stderr
        assert "cnat_translation_update" in result.stderr
        assert "26.10" in result.stderr  # the VPP version is named
    finally:
        emu.stop()
