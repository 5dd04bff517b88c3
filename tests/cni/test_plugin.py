"""switchyard-cni against a real agent, the emulated VPP and real network namespaces, with
Debian's host-local IPAM: ADD/DEL/CHECK as a runtime runs them, idempotence, errors."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from tests.vppemu.harness import Emulator

from .support import PLUGIN, AgentProcess, Netns, allocated, cni, network_config

CONTAINER = "0123456789abcdef0123456789abcdef"


def taps(emulator: Emulator) -> list[dict[str, Any]]:
    taps: list[dict[str, Any]] = emulator.state()["tap"]
    return taps


def host_routes(emulator: Emulator) -> dict[str, list[int]]:
    """Table 0's host routes: prefix -> the interfaces of their paths."""
    (table,) = [t for t in emulator.state()["ip"] if t["table_id"] == 0 and not t["is_ip6"]]
    return {
        r["prefix"]: [p["sw_if_index"] for p in r["paths"]]
        for r in table["routes"]
        if r["prefix"].endswith("/32")
    }


def interface_names(emulator: Emulator) -> list[str]:
    return [i["name"] for i in emulator.state()["interfaces"]]


def test_version_lists_the_supported_versions() -> None:
    out = subprocess.run(
        [str(PLUGIN)], env={"CNI_COMMAND": "VERSION"}, input=b"{}", capture_output=True
    )
    assert out.returncode == 0
    body = json.loads(out.stdout)
    assert body["cniVersion"] == "1.0.0" and "1.0.0" in body["supportedVersions"]


def test_the_plugin_needs_nothing_but_the_standard_library() -> None:
    """So it can run from the host's CNI bin directory (see docs/pod-attachment.md)."""
    code = (
        "import sys, switchyard_agent.cni.plugin; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'pydantic', 'grpc', 'google'}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "[]", done.stderr


def test_add_puts_the_pod_on_a_vpp_tap_and_del_removes_everything(
    agent: AgentProcess, emulator: Emulator, netns: Netns, tmp_path: Path
) -> None:
    config = network_config(tmp_path, agent.cni_socket)
    added = cni("ADD", config, CONTAINER, netns)
    assert added.code == 0, added.output
    result = added.output
    assert result["cniVersion"] == "1.0.0"
    assert result["interfaces"] == [{"name": "eth0", "sandbox": netns.path}]
    (ip,) = result["ips"]
    assert ip["gateway"] == "10.1.1.1" and ip["address"].startswith("10.1.1.")
    assert {"dst": "0.0.0.0/0", "gw": "10.1.1.1"} in result["routes"]
    # The kernel side: in the pod's netns, named CNI_IFNAME, addressed, default via VPP.
    assert netns.addresses("eth0") == [ip["address"]]
    assert netns.default_route() == "10.1.1.1"
    assert netns.mtu("eth0") == config["mtu"]
    assert allocated(tmp_path) == [ip["address"].split("/")[0]]
    # VPP's side: a tap, admin-up, unnumbered to the loopback.
    (tap,) = taps(emulator)
    assert tap["host_if_name"] == "eth0" and tap["host_namespace"] == netns.path
    state = emulator.state()
    by_name = {i["name"]: i for i in state["interfaces"]}
    vpp_tap = by_name["tap1"]
    assert vpp_tap["flags"] & 1
    assert state["addressing"]["unnumbered"] == {
        str(vpp_tap["sw_if_index"]): by_name["loop0"]["sw_if_index"]
    }
    pod_ip = ip["address"].split("/")[0]
    assert host_routes(emulator) == {f"{pod_ip}/32": [vpp_tap["sw_if_index"]]}

    again = cni("ADD", config, CONTAINER, netns)
    assert again.code == 0 and again.output == result  # idempotent: the same result
    assert len(taps(emulator)) == 1

    checked = cni("CHECK", {**config, "prevResult": result}, CONTAINER, netns)
    assert checked.code == 0, checked.output

    for _ in range(2):  # DEL twice: both succeed
        deleted = cni("DEL", config, CONTAINER, netns)
        assert deleted.code == 0, deleted.output
        assert deleted.output == {}
    assert taps(emulator) == []
    assert "tap1" not in interface_names(emulator)
    assert host_routes(emulator) == {}
    assert netns.addresses("eth0") == [] and netns.ip("link", "show", "eth0") == ""
    assert allocated(tmp_path) == []  # the address is released


def test_del_without_add_succeeds(agent: AgentProcess, netns: Netns, tmp_path: Path) -> None:
    config = network_config(tmp_path, agent.cni_socket)
    assert cni("STATUS", config, "", None).code == 0  # the agent answers: ready
    assert cni("DEL", config, "never-added", netns).code == 0
    assert cni("DEL", config, "never-added", None).code == 0  # the netns may be gone already


def test_check_fails_after_the_pod_interface_is_deleted_by_hand(
    agent: AgentProcess, emulator: Emulator, netns: Netns, tmp_path: Path
) -> None:
    config = network_config(tmp_path, agent.cni_socket)
    result = cni("ADD", config, CONTAINER, netns).output
    assert cni("CHECK", {**config, "prevResult": result}, CONTAINER, netns).code == 0
    (tap,) = taps(emulator)
    netns.ip("link", "set", "eth0", "down")
    netns.ip("addr", "flush", "dev", "eth0")  # someone removes the pod's address
    lost = cni("CHECK", {**config, "prevResult": result}, CONTAINER, netns)
    assert lost.code == 1 and "lacks its address" in lost.output["msg"]
    emulator.delete_interface(tap["sw_if_index"])  # someone deletes the tap in VPP
    checked = cni("CHECK", {**config, "prevResult": result}, CONTAINER, netns)
    assert checked.code == 1
    assert checked.output["code"] == 999
    assert "VPP has no interface tap1" in checked.output["msg"]
    assert cni("DEL", config, CONTAINER, netns).code == 0  # DEL of a half-gone attachment
    assert allocated(tmp_path) == []


def test_memif_attachment(
    agent: AgentProcess, emulator: Emulator, netns: Netns, tmp_path: Path
) -> None:
    sockets = Path(tempfile.mkdtemp(prefix="sy-memif-"))  # short: a unix socket path
    config = network_config(tmp_path, agent.cni_socket, mode="memif", memifSocketDir=str(sockets))
    added = cni("ADD", config, CONTAINER, netns)
    assert added.code == 0, added.output
    (interface,) = added.output["interfaces"]
    socket = sockets / CONTAINER / "memif.sock"
    assert interface == {"name": "eth0", "socketPath": str(socket)}
    assert added.output["ips"][0]["address"].startswith("10.1.1.")
    memif = emulator.state()["memif"]
    assert memif["sockets"]["1"] == str(socket)
    (vpp_memif,) = memif["interfaces"]
    assert vpp_memif["role"] == 0 and vpp_memif["socket_id"] == 1  # VPP is master
    assert taps(emulator) == [] and netns.ip("link", "show", "eth0") == ""  # no kernel side
    assert socket.is_socket()  # VPP listens: the runtime mounts the directory into the pod
    prev = {**config, "prevResult": added.output}
    assert cni("CHECK", prev, CONTAINER, netns).code == 0
    assert cni("DEL", config, CONTAINER, netns).code == 0
    memif = emulator.state()["memif"]
    assert memif["interfaces"] == [] and "1" not in memif["sockets"]
    assert not socket.exists()
    checked = cni("CHECK", prev, CONTAINER, netns)
    assert checked.code == 1 and checked.output["code"] == 999  # nothing to check any more
    assert allocated(tmp_path) == []


def test_a_pod_can_ask_for_memif_through_cni_args(
    agent: AgentProcess, emulator: Emulator, netns: Netns, tmp_path: Path
) -> None:
    long_dir = tmp_path / ("d" * 60)
    config = network_config(tmp_path, agent.cni_socket, memifSocketDir=str(long_dir))
    too_long = cni("ADD", config, CONTAINER, netns, extra_args="SWITCHYARD_INTERFACE_MODE=memif")
    assert too_long.code == 1 and too_long.output["code"] == 7
    assert "use a shorter memifSocketDir" in too_long.output["msg"]
    assert allocated(tmp_path) == [] and emulator.state()["memif"]["interfaces"] == []

    config["memifSocketDir"] = tempfile.mkdtemp(prefix="sy-memif-")
    added = cni("ADD", config, CONTAINER, netns, extra_args="SWITCHYARD_INTERFACE_MODE=memif")
    assert added.code == 0, added.output
    assert "socketPath" in added.output["interfaces"][0]
    assert len(emulator.state()["memif"]["interfaces"]) == 1
