"""What a runtime sees when attaching cannot work (agent down, addresses exhausted), and that
attachments survive an agent restart and an emulated VPP restart."""

from __future__ import annotations

from pathlib import Path

from tests.vppemu.harness import Emulator
from tests.waiting import wait_for

from .support import AgentProcess, Netns, allocated, cni, network_config

CONTAINER = "feedfacefeedfacefeedfacefeedface"


def test_agent_not_running_is_a_try_again_later_error_that_leaves_nothing(
    cni_host: None, netns: Netns, tmp_path: Path
) -> None:
    socket = tmp_path / "nobody-here.sock"
    config = network_config(tmp_path, socket)
    added = cni("ADD", config, CONTAINER, netns)
    assert added.code == 1
    error = added.output
    assert error["cniVersion"] == "1.0.0"
    assert error["code"] == 11  # the spec's "try again later"
    assert "the switchyard agent is not running" in error["msg"]
    assert str(socket) in error["msg"]
    assert allocated(tmp_path) == []  # nothing allocated is kept
    assert netns.ip("link", "show", "eth0") == ""
    status = cni("STATUS", config, "", None)  # CNI 1.1's readiness question
    assert status.code == 1 and status.output["code"] == 50


def test_exhausted_addresses_are_reported_and_leave_nothing_in_vpp(
    agent: AgentProcess, emulator: Emulator, netns: Netns, tmp_path: Path
) -> None:
    config = network_config(tmp_path, agent.cni_socket)
    one = {"subnet": "10.1.1.0/24", "gateway": "10.1.1.1", "rangeStart": "10.1.1.7",
           "rangeEnd": "10.1.1.7"}  # fmt: skip
    config["ipam"]["ranges"] = [[one]]
    assert cni("ADD", config, CONTAINER, netns).code == 0
    other = netns.more()  # type: ignore[attr-defined]
    second = cni("ADD", config, "second-container", other, pod=("default", "web-2"))
    assert second.code == 1
    assert second.output["code"] == 999  # host-local's own code, passed through
    assert "IPAM plugin host-local failed" in second.output["msg"]
    assert "no IP addresses available" in second.output["msg"]
    assert len(emulator.state()["tap"]) == 1  # only the first pod's
    assert other.ip("link", "show", "eth0") == ""
    assert allocated(tmp_path) == ["10.1.1.7"]


def test_a_failed_vpp_create_releases_the_address_and_leaves_no_tap(
    agent: AgentProcess, emulator: Emulator, netns: Netns, tmp_path: Path
) -> None:
    config = network_config(tmp_path, agent.cni_socket)
    emulator.inject_failure("sw_interface_set_flags", retval=-1)  # after the tap exists
    added = cni("ADD", config, CONTAINER, netns)
    assert added.code == 1
    assert "VPP could not create the pod's interface" in added.output["msg"]
    assert "sw_interface_set_flags" in added.output["msg"]
    assert emulator.state()["tap"] == []
    assert netns.ip("link", "show", "eth0") == ""
    assert allocated(tmp_path) == []
    assert cni("ADD", config, CONTAINER, netns).code == 0  # and a retry works


def test_attachments_survive_an_agent_restart_and_a_vpp_restart(
    agent: AgentProcess, emulator: Emulator, netns: Netns, tmp_path: Path
) -> None:
    config = network_config(tmp_path, agent.cni_socket)
    result = cni("ADD", config, CONTAINER, netns).output
    address = result["ips"][0]["address"]
    (tap,) = emulator.state()["tap"]

    agent.stop()
    agent.start()
    assert cni("CHECK", {**config, "prevResult": result}, CONTAINER, netns).code == 0
    assert emulator.state()["tap"] == [tap]  # kept as it was: not re-created
    assert cni("ADD", config, CONTAINER, netns).output == result

    emulator.crash()  # VPP restarts empty: its taps (and their kernel sides) are gone
    assert netns.ip("link", "show", "eth0") == ""
    emulator.add_interface("loop0", "Loopback")  # what VPP's startup config makes again
    wait_for(lambda: netns.default_route() == "10.1.1.1", timeout=30, what="tap re-created")
    assert netns.addresses("eth0") == [address]
    (again,) = emulator.state()["tap"]
    assert again["host_if_name"] == "eth0" and again["id"] == tap["id"]
    assert cni("CHECK", {**config, "prevResult": result}, CONTAINER, netns).code == 0
    assert cni("DEL", config, CONTAINER, netns).code == 0
    assert emulator.state()["tap"] == [] and allocated(tmp_path) == []
