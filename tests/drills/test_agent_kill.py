"""Drill: a real switchyard-agent process programming the VPP emulator is killed with
SIGKILL in the middle of a 2,000-service snapshot, then started again: it converges to
exactly the compiled configuration (every frontend once, with its backends) and says so."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from switchyard_api.resources.registry import ENDPOINTS, SERVICE
from tests.api.support import LiveServer
from tests.vpp.test_agent_end_to_end import UPLINK, agent_command, node_status
from tests.vppemu.harness import Emulator
from tests.waiting import wait_for

pytestmark = pytest.mark.slow
SERVICES = 2000


def cluster_ip(index: int) -> str:
    return f"10.96.{index // 250}.{index % 250 + 1}"


def seed(server: LiveServer) -> str:
    client = server.client()
    client.put("/v1/namespaces/default", json={"spec": {}}).raise_for_status()
    node = {
        "spec": {"addresses": ["192.0.2.1"], "podCIDRs": ["10.1.1.0/24"], "uplinkInterface": UPLINK}
    }
    client.put("/v1/nodes/n1", json=node).raise_for_status()
    # One transaction through the API's own writer (same rules as PUT): 4,000 requests
    # would take minutes on a loaded machine and test nothing more.
    items: list[tuple[Any, str, dict[str, Any]]] = []
    for index in range(SERVICES):
        spec = {"clusterIPs": [cluster_ip(index)], "ports": [{"port": 80, "targetPort": 8080}]}
        items.append((SERVICE, "default", {"metadata": {"name": f"s{index}"}, "spec": spec}))
        endpoints = [{"addresses": ["10.1.1.5"], "nodeName": "n1"}]
        items.append(
            (ENDPOINTS, "default", {"metadata": {"name": f"s{index}"}, "endpoints": endpoints})
        )
    server.app.state.writer.bulk_put(items)
    token: str = client.post("/v1/tokens", json={"role": "node", "node": "n1"}).json()["token"]
    return token


def frontends(emu: Emulator) -> list[tuple[str, int, tuple[tuple[str, int], ...]]]:
    return [
        (
            t["vip"]["addr"],
            t["vip"]["port"],
            tuple((p["dst_ep"]["addr"], p["dst_ep"]["port"]) for p in t["paths"]),
        )
        for t in emu.state()["cnat"]["translations"]
    ]


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[Emulator]:
    (tmp_path / "vpp").mkdir()
    emu = Emulator(tmp_path / "vpp").start()
    emu.add_interface(UPLINK)
    yield emu
    emu.stop()


def test_agent_killed_mid_snapshot_converges_after_restart(
    fresh_postgres_url: str, emulator: Emulator, tmp_path: Path
) -> None:
    with LiveServer(fresh_postgres_url) as server:
        token = seed(server)
        client: httpx.Client = server.client()
        revision = client.get("/readyz").json()["revision"]
        wait_for(
            lambda: server.app.state.distribution.hub.state.revision >= revision,
            timeout=120,
            what="2,000 services compiled",
        )
        api = f"127.0.0.1:{server.app.state.distribution.port}"
        command = agent_command(api, token, str(emulator.socket_path), tmp_path / "agent")

        first = subprocess.Popen(command, stderr=subprocess.DEVNULL)
        try:
            programmed = wait_for(
                lambda: (
                    (n := emulator.call_counts().get("cnat_translation_update", 0))
                    >= SERVICES // 10
                    and n
                ),
                timeout=60,
                step=0.01,
                what="the snapshot being programmed",
            )
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
        finally:
            if first.poll() is None:
                first.kill()
        assert programmed < SERVICES, "killed too late: the snapshot was already applied"
        partial = len(frontends(emulator))
        assert 0 < partial < SERVICES
        status: dict[str, Any] = node_status(client)
        assert status["appliedRevision"] != revision  # never ACKed

        second = subprocess.Popen(command, stderr=subprocess.DEVNULL)
        try:
            wait_for(
                lambda: (
                    (s := node_status(client))["appliedRevision"] == revision and s["connected"]
                ),
                timeout=120,
                what="the restarted agent converged",
            )
            programmed_now = frontends(emulator)
            expected = {(cluster_ip(i), 80, (("10.1.1.5", 8080),)) for i in range(SERVICES)}
            assert len(programmed_now) == SERVICES  # each frontend exactly once
            assert set(programmed_now) == expected
            status = node_status(client)
            assert status["lastError"] is None and status["errors"] == []
        finally:
            second.terminate()
            second.wait(timeout=15)
