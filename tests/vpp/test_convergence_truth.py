"""Issue 17 end to end: a real switchyard-agent process with the VPP driver, the VPP emulator
and a real API on PostgreSQL. The node never ACKs work VPP has not done, REST status says so,
and an interface that appears after the agent's resync gets its objects within a second."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from switchyard_api.store.models import NodeReport
from tests.api.support import LiveServer
from tests.vpp.test_agent_end_to_end import UPLINK, agent_command, node_status, seed, translations
from tests.vppemu.harness import Emulator
from tests.waiting import wait_for

POD_INTERFACE = "tap-web-1"


def outcomes(server: LiveServer) -> list[tuple[int, str]]:
    with server.app.state.store.read() as session:
        rows = session.scalars(select(NodeReport).where(NodeReport.node == "n1"))
        return [(row.revision, row.outcome) for row in rows]


def object_status(client: httpx.Client, path: str) -> dict[str, Any]:
    status: dict[str, Any] = client.get(path).json()["status"]
    return status


def cluster_node(client: httpx.Client) -> dict[str, Any]:
    node: dict[str, Any] = client.get("/v1/status").json()["nodes"][0]
    return node


class AgentProcess:
    """The agent under test; its log goes to a file that a failing test prints."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, command: list[str]) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(command, stdout=out, stderr=out)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            print(self.log.read_text(errors="replace")[-20000:])  # shown on failure only


@pytest.fixture
def agent_process(tmp_path: Path) -> Iterator[AgentProcess]:
    agent = AgentProcess(tmp_path / "agent.log")
    yield agent
    agent.stop()


def test_vpp_down_from_the_start_is_never_acked_until_it_is_up(
    fresh_postgres_url: str, tmp_path: Path, agent_process: AgentProcess
) -> None:
    (tmp_path / "vpp").mkdir()
    emulator = Emulator(tmp_path / "vpp")  # not started: VPP is unreachable
    service = "/v1/namespaces/default/services/web"
    try:
        with LiveServer(fresh_postgres_url) as server:
            client = server.client()
            token = seed(client)
            first = client.get("/readyz").json()["revision"]
            api = f"127.0.0.1:{server.app.state.distribution.port}"
            command = agent_command(api, token, str(emulator.socket_path), tmp_path / "agent")
            agent_process.start(command)

            def answered_with_vpp_down() -> dict[str, Any] | None:
                node = cluster_node(client)
                down = node["dataplanes"] == {"vpp": "disconnected"}
                return node if node["appliedRevision"] == first and down else None

            wait_for(answered_with_vpp_down, timeout=30, what="an answer for the revision")
            # Never an ACK for work VPP has not done.
            assert (first, "NACK") in outcomes(server)
            assert {outcome for _, outcome in outcomes(server)} == {"NACK"}
            node = cluster_node(client)
            assert node["acked"] is False and node["dataplanesDown"] == ["vpp"]
            assert node["converged"] is False
            assert "vpp" in node["lastError"]
            assert node["errors"] and all("vpp" in e["message"] for e in node["errors"])
            assert node["dataplanes"] == {"vpp": "disconnected"}
            # Later revisions are not ACKed either while VPP stays away.
            scale = {"endpoints": [{"addresses": ["10.1.1.7"], "nodeName": "n1"}]}
            written = client.put(f"{service}/endpoints", json=scale)
            second = int(written.json()["metadata"]["resourceVersion"])
            wait_for(lambda: node_status(client)["appliedRevision"] == second, what="2nd report")
            time.sleep(1.0)  # a few status periods: nothing turns into an ACK by itself
            assert outcomes(server) and all(o == "NACK" for _, o in outcomes(server))
            for path in (service, f"{service}/endpoints", "/v1/nodes/n1"):
                if path == "/v1/nodes/n1":
                    assert node_status(client)["acked"] is False
                    continue
                status = object_status(client, path)
                assert status["appliedNodes"] == 0 and status["totalNodes"] == 1
                assert status["notAppliedNodes"] == [
                    {"node": "n1", "reason": "dataplane vpp disconnected"}
                ]

            emulator.start()
            emulator.add_interface(UPLINK)
            wait_for(
                lambda: (second, "ACK") in outcomes(server), timeout=30, what="ACK once VPP is up"
            )
            assert translations(emulator)[("10.96.0.10", 80)] == [("10.1.1.7", 8080)]
            wait_for(lambda: cluster_node(client)["dataplanesDown"] == [], what="VPP shown up")
            node = cluster_node(client)
            assert node["acked"] is True and node["lastError"] is None and not node["errors"]
            assert node["converged"] is True
            for path in (service, f"{service}/endpoints"):
                status = object_status(client, path)
                assert status["appliedNodes"] == 1 and status["notAppliedNodes"] == []
    finally:
        emulator.stop()


def seed_pod_with_policy(client: httpx.Client) -> None:
    pod = {"spec": {"nodeName": "n1", "podIPs": ["10.1.1.5"], "interface": POD_INTERFACE}}
    pod["metadata"] = {"labels": {"app": "web"}}
    client.put("/v1/namespaces/default/pods/web-1", json=pod).raise_for_status()
    policy = {"spec": {"podSelector": {"matchLabels": {"app": "web"}}, "policyTypes": ["Ingress"]}}
    client.put("/v1/namespaces/default/network-policies/deny", json=policy).raise_for_status()


def on_interface(emulator: Emulator, name: str) -> tuple[bool, bool, bool]:
    """(ACL bound, cnat feature on, in the pod SNAT tables) for the interface `name`."""
    state = emulator.state()
    index = next((i["sw_if_index"] for i in state["interfaces"] if i["name"] == name), None)
    if index is None:
        return (False, False, False)
    bound = any(
        b["sw_if_index"] == index and (b["input"] or b["output"])
        for b in state["acl"]["interfaces"]
    )
    feature = index in state["cnat"]["feature_interfaces"]
    pod_tables = state["cnat"]["snat_if_tables"][:3]  # INCLUDE_V4, INCLUDE_V6, POD
    tables = all(index in table for table in pod_tables)
    return (bound, feature, tables)


@pytest.mark.parametrize("events", [True, False], ids=["interface-events", "periodic-dump"])
def test_an_interface_created_after_the_resync_gets_its_objects_within_a_second(
    fresh_postgres_url: str,
    tmp_path: Path,
    agent_process: AgentProcess,
    events: bool,
) -> None:
    (tmp_path / "vpp").mkdir()
    # Without want_interface_events in VPP's message table only the periodic dump can see it.
    dropped = () if events else ("want_interface_events",)
    emulator = Emulator(tmp_path / "vpp", drop_messages=dropped).start()
    try:
        emulator.add_interface(UPLINK)
        with LiveServer(fresh_postgres_url) as server:
            client = server.client()
            token = seed(client)
            seed_pod_with_policy(client)
            revision = client.get("/readyz").json()["revision"]
            api = f"127.0.0.1:{server.app.state.distribution.port}"
            command = agent_command(api, token, str(emulator.socket_path), tmp_path / "agent")
            # With events, probes (and their dumps) are rare: only an event can be this fast.
            probe = "30" if events else "0.3"
            command[command.index("--probe-interval") + 1] = probe
            agent_process.start(command)

            # Waiting only for the pod's interface: the revision is ACKed.
            wait_for(lambda: (revision, "ACK") in outcomes(server), timeout=30, what="ACK")
            wait_for(lambda: node_status(client)["pendingObjects"] >= 2, what="pending reported")
            assert on_interface(emulator, UPLINK)[1]  # the uplink's cnat feature is on

            emulator.add_interface(POD_INTERFACE)  # the CNI plugin plugs the pod, later
            plugged = time.monotonic()
            wait_for(
                lambda: on_interface(emulator, POD_INTERFACE) == (True, True, True),
                timeout=1.0,
                step=0.02,
                what="ACL binding and cnat feature on the new interface",
            )
            latency = time.monotonic() - plugged
            assert latency < 1.0, latency
            print(f"interface to ACL binding + cnat feature: {latency * 1000:.0f} ms")
            assert client.get("/readyz").json()["revision"] == revision  # no REST write
            wait_for(lambda: node_status(client)["pendingObjects"] == 0, what="none pending")
            assert node_status(client)["acked"] is True
            if not events:
                return
            # Deleted and re-created under the same name and (VPP reuses them) the same
            # sw_if_index, faster than any dump: the deletion event says it is another one.
            index = next(
                i["sw_if_index"]
                for i in emulator.state()["interfaces"]
                if i["name"] == POD_INTERFACE
            )
            emulator.delete_interface(index)
            assert emulator.add_interface(POD_INTERFACE) == index
            wait_for(
                lambda: on_interface(emulator, POD_INTERFACE) == (True, True, True),
                timeout=1.0,
                step=0.02,
                what="ACL binding and cnat feature on the re-created interface",
            )
    finally:
        emulator.stop()
