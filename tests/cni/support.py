"""Real CNI invocations for the tests: the plugin run with the CNI_* environment and the
network configuration on stdin exactly as a runtime (or the CNI project's `cnitool`) does;
network namespaces the test creates and removes; a real switchyard-agent process."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

CNI_BIN = Path("/usr/lib/cni")
PLUGIN = Path(sys.executable).parent / "switchyard-cni"


def require_cni_host() -> None:
    """Root, network namespaces and Debian's containernetworking-plugins (skip with a reason
    locally; SWITCHYARD_CI=1 turns the skip into a failure)."""
    if os.geteuid() != 0:
        pytest.skip("CNI tests need root (network namespaces, tap devices)")
    if not (CNI_BIN / "host-local").exists():
        pytest.skip("host-local missing: apt-get install containernetworking-plugins")
    for tool in ("ip", "nsenter"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    if not os.path.exists("/dev/net/tun"):
        pytest.skip("/dev/net/tun is missing")


@dataclass
class Netns:
    name: str

    @property
    def path(self) -> str:
        return f"/var/run/netns/{self.name}"

    def ip(self, *args: str) -> str:
        done = subprocess.run(
            ["ip", "-n", self.name, *args], capture_output=True, text=True, check=False
        )
        return done.stdout if done.returncode == 0 else ""

    def addresses(self, ifname: str) -> list[str]:
        rows = json.loads(self.ip("-j", "addr", "show", "dev", ifname) or "[]")
        return [
            f"{a['local']}/{a['prefixlen']}"
            for row in rows
            for a in row.get("addr_info", [])
            if a.get("scope") == "global"
        ]

    def default_route(self) -> str | None:
        rows = json.loads(self.ip("-j", "-4", "route", "show", "default") or "[]")
        return rows[0].get("gateway") if rows else None

    def mtu(self, ifname: str) -> int | None:
        rows = json.loads(self.ip("-j", "link", "show", "dev", ifname) or "[]")
        return int(rows[0]["mtu"]) if rows else None


@pytest.fixture
def netns() -> Iterator[Netns]:
    made: list[Netns] = []

    def create() -> Netns:
        ns = Netns(f"sycni-{uuid.uuid4().hex[:10]}")
        subprocess.run(["ip", "netns", "add", ns.name], check=True)
        made.append(ns)
        return ns

    first = create()
    first.more = create  # type: ignore[attr-defined]
    yield first
    for ns in made:
        subprocess.run(["ip", "netns", "del", ns.name], check=False)


def network_config(
    tmp: Path, agent_socket: Path, *, subnet: str = "10.1.1.0/24", **extra: Any
) -> dict[str, Any]:
    """The plugin's entry of deploy/cni/10-switchyard.conflist, as the runtime passes it (the
    list's name and cniVersion copied in), with a private host-local data directory."""
    conflist = json.loads(
        (Path(__file__).resolve().parents[2] / "deploy/cni/10-switchyard.conflist").read_text()
    )
    config = dict(conflist["plugins"][0])
    config["name"] = conflist["name"]
    config["cniVersion"] = conflist["cniVersion"]
    config["agentSocket"] = str(agent_socket)
    ipam = dict(config["ipam"])
    network = subnet.rsplit(".", 1)[0]
    ipam["ranges"] = [[{"subnet": subnet, "gateway": f"{network}.1"}]]
    ipam["dataDir"] = str(tmp / "ipam")
    config["ipam"] = ipam
    config.update(extra)
    return config


@dataclass
class Outcome:
    code: int
    output: dict[str, Any]
    stderr: str


def cni(
    command: str,
    config: dict[str, Any],
    container_id: str,
    netns: Netns | None,
    *,
    ifname: str = "eth0",
    pod: tuple[str, str] | None = ("default", "web-1"),
    extra_args: str = "",
    plugin: Path = PLUGIN,
) -> Outcome:
    """One plugin invocation with the environment and stdin a runtime sends (by default of
    the venv's console script; `plugin`: e.g. one `switchyard-cni install` put somewhere)."""
    args = ["IgnoreUnknown=1"]
    if pod is not None:
        args += [f"K8S_POD_NAMESPACE={pod[0]}", f"K8S_POD_NAME={pod[1]}"]
        args.append(f"K8S_POD_INFRA_CONTAINER_ID={container_id}")
    if extra_args:
        args.append(extra_args)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "CNI_COMMAND": command,
        "CNI_CONTAINERID": container_id,
        "CNI_NETNS": netns.path if netns is not None else "",
        "CNI_IFNAME": ifname,
        "CNI_ARGS": ";".join(args),
        "CNI_PATH": f"{CNI_BIN}:{plugin.parent}",
    }
    done = subprocess.run(
        [str(plugin)],
        input=json.dumps(config).encode(),
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    output = json.loads(done.stdout) if done.stdout.strip() else {}
    return Outcome(done.returncode, output, done.stderr.decode(errors="replace"))


def allocated(tmp: Path) -> list[str]:
    """Addresses host-local holds (one file per address in its data directory)."""
    directory = tmp / "ipam" / "switchyard"
    if not directory.exists():
        return []
    return sorted(p.name for p in directory.iterdir() if p.name[0].isdigit())


def agent_command(
    api: str, token: str, vpp_socket: Path, state: Path, cni_socket: Path
) -> list[str]:
    return [
        sys.executable, "-m", "switchyard_agent.cli",
        "--api", api, "--node", "n1", "--token", token,
        "--drivers", "vpp",
        "--vpp-api-socket", str(vpp_socket),
        "--state-dir", str(state),
        "--cni-socket", str(cni_socket),
        "--metrics-listen", "off",
        "--probe-interval", "0.3",
        "--status-interval", "0.5",
        "--reconnect-backoff-min", "0.1",
        "--reconnect-backoff-max", "0.5",
    ]  # fmt: skip


class AgentProcess:
    def __init__(self, command: list[str], log: Path, cni_socket: Path) -> None:
        self.command = command
        self.log = log
        self.cni_socket = cni_socket
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> AgentProcess:
        from tests.waiting import wait_for

        with self.log.open("ab") as log:
            self.process = subprocess.Popen(self.command, stdout=log, stderr=log)
        wait_for(self.cni_socket.exists, timeout=30, what="the agent's CNI socket")
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=20)
            self.process = None
