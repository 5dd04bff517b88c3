"""Network namespaces, daemons and small probes for the BGP tests.

Every namespace a test creates has a unique short name (prefix + random hex) and is deleted
at teardown, even after a failure. Traffic stays inside those namespaces.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest


def missing_requirements() -> str | None:
    """Why these tests cannot run here, or None."""
    if os.geteuid() != 0:
        return "needs root (network namespaces)"
    for tool in ("ip", "gobgpd", "bird", "birdc"):
        if shutil.which(tool) is None:
            return f"{tool} not installed (apt-get install gobgpd bird2 iproute2)"
    probe = f"syp{uuid.uuid4().hex[:6]}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if made.returncode != 0:
        return f"cannot create network namespaces: {made.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


def require() -> None:
    reason = missing_requirements()
    if reason is not None:
        pytest.skip(reason)


def sh(*cmd: str, check: bool = True) -> str:
    done = subprocess.run(cmd, capture_output=True, text=True)
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {done.stderr.strip()}")
    return done.stdout


class Lab:
    """Namespaces and processes of one test module; `close()` removes everything."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.tag = uuid.uuid4().hex[:5]
        self.namespaces: dict[str, str] = {}  # role -> real name
        self.processes: list[subprocess.Popen[bytes]] = []

    def ns(self, role: str) -> str:
        return self.namespaces[role]

    def add_ns(self, role: str) -> str:
        name = f"sy{self.tag}{role[:6]}"
        sh("ip", "netns", "add", name)
        self.namespaces[role] = name
        self.ip(role, "link", "set", "lo", "up")
        return name

    def ip(self, role: str, *args: str) -> str:
        return sh("ip", "-n", self.ns(role), *args)

    def exec(self, role: str, *cmd: str, check: bool = True) -> str:
        return sh("ip", "netns", "exec", self.ns(role), *cmd, check=check)

    def sysctl(self, role: str, **values: str) -> None:
        for key, value in values.items():
            self.exec(role, "sysctl", "-qw", f"{key.replace('__', '.')}={value}")

    def veth(self, a: str, a_if: str, b: str, b_if: str) -> None:
        tmp = f"v{self.tag}{uuid.uuid4().hex[:6]}"
        sh("ip", "link", "add", tmp, "type", "veth", "peer", "name", tmp + "p")
        sh("ip", "link", "set", tmp, "netns", self.ns(a))
        sh("ip", "link", "set", tmp + "p", "netns", self.ns(b))
        self.ip(a, "link", "set", tmp, "name", a_if)
        self.ip(b, "link", "set", tmp + "p", "name", b_if)
        self.ip(a, "link", "set", a_if, "up")
        self.ip(b, "link", "set", b_if, "up")

    def spawn(
        self, role: str | None, cmd: Sequence[str], log: Path, env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        full = [*(["ip", "netns", "exec", self.ns(role)] if role else []), *cmd]
        with log.open("ab") as out:
            process = subprocess.Popen(
                full,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
            )
        self.processes.append(process)
        return process

    @staticmethod
    def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
        if process.poll() is None:
            process.send_signal(sig)
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)

    def close(self) -> None:
        for process in reversed(self.processes):
            self.stop(process)
        for name in self.namespaces.values():
            subprocess.run(["ip", "netns", "del", name], capture_output=True)
        self.namespaces.clear()


def python_in(lab: Lab, role: str, code: str, *args: str, timeout: float = 30) -> str:
    """Run a short Python program inside a namespace; its stdout."""
    done = subprocess.run(
        ["ip", "netns", "exec", lab.ns(role), sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise RuntimeError(f"python in {role} failed: {done.stderr}")
    return done.stdout


TCP_SERVER = """
import socket, sys
address, port, reply = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((address, port))
srv.listen(512)
while True:
    conn, _ = srv.accept()
    try:
        conn.sendall(reply)
    finally:
        conn.close()
"""

TCP_CLIENT = """
import collections, socket, sys
address, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
seen = collections.Counter()
for _ in range(count):
    s = socket.create_connection((address, port), timeout=3)
    data = b""
    while True:
        chunk = s.recv(100)
        if not chunk:
            break
        data += chunk
    s.close()
    seen[data.decode()] += 1
print(" ".join(f"{k}={v}" for k, v in sorted(seen.items())))
"""


def next_hops(lab: Lab, role: str, prefix: str) -> list[str]:
    """The gateways of a kernel route in a namespace (one or several `nexthop via`)."""
    out = lab.ip(role, "route", "show", prefix)
    hops: list[str] = []
    for line in out.splitlines():
        words = line.split()
        if "via" in words:
            hops.append(words[words.index("via") + 1])
    return sorted(hops)


def vpp_routes(state: dict[str, Any]) -> dict[str, list[str]]:
    """Emulator state -> {prefix: sorted next hops} of table 0 (IPv4 and IPv6)."""
    out: dict[str, list[str]] = {}
    for table in state["ip"]:
        if table["table_id"] != 0:
            continue
        for route in table["routes"]:
            hops = []
            for path in route["paths"]:
                address = path["nh"]["address"]
                hops.append(str(address.get("ip6") or address.get("ip4") or address))
            out[str(route["prefix"])] = sorted(hops)
    return out
