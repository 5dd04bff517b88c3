"""BGP end to end: real gobgpd per node, BIRD 2 as the upstream router, real kernel routes.

Topology (all in namespaces this module creates; docs/bgp.md draws it):

    client 192.0.2.2 --- 192.0.2.1 router (BIRD 2, AS 65000, merge paths -> kernel)
                                    | br0 198.51.100.1/24
                 +------------------+------------------+
           node1 .11 AS 65101  node2 .12 AS 65102  node3 .13 AS 65103

Each node runs gobgpd in its namespace (API on a unix socket in the test's temp dir), a VPP
emulator and a real `switchyard-agent --drivers vpp,gobgp` in the root namespace, connected to
a real API server on PostgreSQL. Every node peers (eBGP) with the router and with the other
nodes (a full mesh of bgp-peers selected by a `name NotIn [self]` selector); BIRD exports
nothing back, so what a node learns comes straight from the node that announced it (next hop
= that node) and lands in its VPP FIB. The VIP 203.0.113.10 sits on lo of node1 and node2,
where a small TCP server answers for it (the dataplane is emulated).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.support import LiveServer
from tests.conftest import reset_store
from tests.vppemu.harness import Emulator
from tests.waiting import wait_for

from .netns import (
    TCP_CLIENT,
    TCP_SERVER,
    Lab,
    next_hops,
    python_in,
    require,
    vpp_routes,
)

pytestmark = pytest.mark.vpp_api

ROUTER_AS = 65000
ROUTER_IP = "198.51.100.1"
NODES = {
    "node1": (65101, "198.51.100.11", "198.18.1.0/24"),
    "node2": (65102, "198.51.100.12", "198.18.2.0/24"),
    "node3": (65103, "198.51.100.13", "198.18.3.0/24"),
}
VIP = "203.0.113.10"
SERVICE_IP = "203.0.113.20"
AGENT = str(Path(sys.executable).parent / "switchyard-agent")

BIRD_CONF = """\
router id 198.51.100.1;
protocol device { scan time 10; }
protocol kernel kernel4 {
  ipv4 { import none; export filter { if proto ~ "node*" then accept; reject; }; };
  merge paths on limit 16;
}
template bgp nodes4 {
  local as 65000; hold time 9; keepalive time 3; connect retry time 2; error wait time 1, 10;
  ipv4 {
    import filter { if net ~ [ 203.0.113.0/24{32,32}, 198.18.0.0/15{24,24} ] then accept; reject; };
    export none;
  };
}
"""


@dataclass
class Node:
    name: str
    asn: int
    address: str
    pod_cidr: str
    token: str = ""
    socket: str = ""
    emulator: Emulator | None = None
    gobgpd: subprocess.Popen[bytes] | None = None
    agent: subprocess.Popen[bytes] | None = None


@dataclass
class Env:
    lab: Lab
    root: Path
    client: httpx.Client
    nodes: dict[str, Node] = field(default_factory=dict)

    def start_gobgpd(self, node: Node) -> None:
        Path(node.socket).unlink(missing_ok=True)
        node.gobgpd = self.lab.spawn(
            node.name,
            ["gobgpd", "--api-hosts", f"unix://{node.socket}", "--pprof-disable", "-p"],
            self.root / f"gobgpd-{node.name}.log",
        )
        wait_for(lambda: Path(node.socket).exists(), 10, f"gobgpd of {node.name} listening")

    def router_hops(self, prefix: str) -> list[str]:
        return next_hops(self.lab, "router", prefix)

    def fib(self, node: str) -> dict[str, list[str]]:
        emulator = self.nodes[node].emulator
        assert emulator is not None
        return vpp_routes(emulator.state())

    def logs(self) -> str:
        parts = []
        for path in sorted(self.root.glob("*.log")):
            parts.append(f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}")
        return "\n".join(parts)


def put(client: httpx.Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.put(path, json=body)
    assert response.status_code in (200, 201), f"PUT {path}: {response.text}"
    document: dict[str, Any] = response.json()
    return document


def node_body(node: Node, lb: bool) -> dict[str, Any]:
    labels = {"name": node.name, **({"lb": "true"} if lb else {})}
    return {
        "metadata": {"labels": labels},
        "spec": {
            "addresses": [node.address],
            "podCIDRs": [node.pod_cidr],
            "bgp": {"asn": node.asn, "routerId": node.address},
        },
    }


def build_topology(lab: Lab, root: Path) -> None:
    lab.add_ns("router")
    lab.ip("router", "link", "add", "br0", "type", "bridge")
    lab.ip("router", "link", "set", "br0", "up")
    lab.ip("router", "addr", "add", f"{ROUTER_IP}/24", "dev", "br0")
    lab.sysctl("router", net__ipv4__ip_forward="1", net__ipv4__fib_multipath_hash_policy="1")
    bird = BIRD_CONF
    for index, (name, (asn, address, _)) in enumerate(NODES.items(), start=1):
        lab.add_ns(name)
        lab.veth("router", f"p{index}", name, "eth0")
        lab.ip("router", "link", "set", f"p{index}", "master", "br0")
        lab.ip(name, "addr", "add", f"{address}/24", "dev", "eth0")
        lab.ip(name, "route", "add", "default", "via", ROUTER_IP)
        if name in ("node1", "node2"):
            lab.ip(name, "addr", "add", f"{VIP}/32", "dev", "lo")
        bird += f"protocol bgp {name} from nodes4 {{ neighbor {address} as {asn}; }}\n"
    lab.add_ns("client")
    lab.veth("router", "c0", "client", "eth0")
    lab.ip("router", "addr", "add", "192.0.2.1/24", "dev", "c0")
    lab.ip("client", "addr", "add", "192.0.2.2/24", "dev", "eth0")
    lab.ip("client", "route", "add", "default", "via", "192.0.2.1")
    (root / "bird.conf").write_text(bird)
    lab.spawn(
        "router",
        ["bird", "-f", "-c", str(root / "bird.conf"), "-s", str(root / "bird.ctl")],
        root / "bird.log",
    )


def seed(client: httpx.Client, nodes: dict[str, Node]) -> None:
    put(client, "/v1/namespaces/default", {"spec": {}})
    for node in nodes.values():
        put(client, f"/v1/nodes/{node.name}", node_body(node, lb=node.name != "node3"))
        created = client.post("/v1/tokens", json={"role": "node", "node": node.name})
        assert created.status_code in (200, 201), created.text
        node.token = created.json()["token"]
    put(
        client,
        "/v1/bgp-peers/router",
        {"spec": {"peerIP": ROUTER_IP, "asNumber": ROUTER_AS, "families": ["ipv4-unicast"]}},
    )
    for node in nodes.values():
        selector = {
            "matchExpressions": [{"key": "name", "operator": "NotIn", "values": [node.name]}]
        }
        spec = {
            "peerIP": node.address,
            "asNumber": node.asn,
            "nodeSelector": selector,
            "families": ["ipv4-unicast"],
        }
        put(client, f"/v1/bgp-peers/mesh-{node.name}", {"spec": spec})
    lb = {
        "vip": f"{VIP}/32",
        "protocol": "TCP",
        "port": 80,
        "encap": "gre4",
        "lbNodeSelector": {"matchLabels": {"lb": "true"}},
        "backends": {"addresses": ["198.51.100.50"]},
    }
    put(client, "/v1/load-balancers/lb1", {"spec": lb})


def start_agent(env: Env, node: Node, api: str) -> None:
    assert node.emulator is not None
    cmd = [
        AGENT,
        "--api",
        api,
        "--node",
        node.name,
        "--token",
        node.token,
        "--state-dir",
        str(env.root / f"agent-{node.name}"),
        "--metrics-listen",
        "off",
        "--drivers",
        "vpp,gobgp",
        "--vpp-api-socket",
        str(node.emulator.socket_path),
        "--gobgp-api",
        f"unix://{node.socket}",
        "--reconnect-backoff-min",
        "0.1",
        "--reconnect-backoff-max",
        "1",
        "--status-interval",
        "1",
    ]
    node.agent = env.lab.spawn(None, cmd, env.root / f"agent-{node.name}.log")


@pytest.fixture(scope="module")
def env(postgres_url: str) -> Iterator[Env]:
    require()
    # Short: unix socket paths (gobgpd's API, BIRD's control socket) must fit sun_path.
    root = Path(tempfile.mkdtemp(prefix="sybgp-"))
    lab = Lab(root)
    emulators: list[Emulator] = []
    try:
        build_topology(lab, root)
        reset_store(postgres_url)
        with LiveServer(postgres_url) as server:
            env = Env(lab, root, server.client())
            env.nodes = {n: Node(n, *spec) for n, spec in NODES.items()}
            seed(env.client, env.nodes)
            api = f"127.0.0.1:{server.app.state.distribution.port}"
            for node in env.nodes.values():
                node.socket = str(root / f"{node.name}.sock")
                (root / f"vpp-{node.name}").mkdir()
                node.emulator = Emulator(root / f"vpp-{node.name}").start()
                emulators.append(node.emulator)
                env.start_gobgpd(node)
                start_agent(env, node, api)
            try:
                yield env
            finally:
                for node in env.nodes.values():
                    if node.agent is not None:
                        Lab.stop(node.agent)
    finally:
        lab.close()
        for emulator in emulators:
            emulator.stop()
        if os.environ.get("SWITCHYARD_BGP_KEEP") == "1":  # debugging: keep logs and configs
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(autouse=True)
def _dump_logs_on_failure(request: pytest.FixtureRequest, env: Env) -> Iterator[None]:
    failed = request.session.testsfailed
    yield
    if request.session.testsfailed > failed:
        print(env.logs())


both = sorted([NODES["node1"][1], NODES["node2"][1]])


def test_vip_has_two_next_hops_on_the_router_and_traffic_reaches_both(env: Env) -> None:
    wait_for(lambda: env.router_hops(VIP) == both, 30, "VIP via node1 and node2 on the router")
    for name in ("node1", "node2"):
        env.lab.spawn(
            name,
            [sys.executable, "-c", TCP_SERVER, VIP, "80", name],
            env.root / f"tcp-{name}.log",
        )
    time.sleep(0.3)
    out = python_in(env.lab, "client", TCP_CLIENT, VIP, "80", "120")
    counts = dict(item.split("=") for item in out.split())
    assert set(counts) == {"node1", "node2"}, out
    assert all(int(v) >= 10 for v in counts.values()), out


def test_learned_routes_reach_each_nodes_vpp_fib_with_all_next_hops(env: Env) -> None:
    expected = {
        "node1": {"198.18.2.0/24": ["198.51.100.12"], "198.18.3.0/24": ["198.51.100.13"]},
        "node2": {"198.18.1.0/24": ["198.51.100.11"], "198.18.3.0/24": ["198.51.100.13"]},
        "node3": {
            "198.18.1.0/24": ["198.51.100.11"],
            "198.18.2.0/24": ["198.51.100.12"],
            f"{VIP}/32": both,
        },
    }
    for name, routes in expected.items():

        def fib_has(name: str = name, routes: dict[str, list[str]] = routes) -> bool:
            fib = env.fib(name)
            return all(fib.get(p) == hops for p, hops in routes.items())

        wait_for(fib_has, 20, f"learned routes in {name}'s VPP FIB")
    # A node never installs a learned route for what it announces itself.
    assert f"{VIP}/32" not in env.fib("node1")
    assert NODES["node1"][2] not in env.fib("node1")


def test_removing_node2_from_the_lb_selector_leaves_one_next_hop_within_1s(env: Env) -> None:
    wait_for(lambda: env.router_hops(VIP) == both, 20, "VIP via both nodes")
    started = time.monotonic()
    put(env.client, "/v1/nodes/node2", node_body(env.nodes["node2"], lb=False))
    wait_for(lambda: env.router_hops(VIP) == ["198.51.100.11"], 1.0, "one next hop", 0.01)
    elapsed = time.monotonic() - started
    print(f"withdrawn from the router's kernel in {elapsed * 1000:.0f} ms")
    # node3 learned the withdrawal too: its FIB route loses node2's next hop.
    wait_for(lambda: env.fib("node3").get(f"{VIP}/32") == ["198.51.100.11"], 5, "node3 FIB")
    put(env.client, "/v1/nodes/node2", node_body(env.nodes["node2"], lb=True))
    wait_for(lambda: env.router_hops(VIP) == both, 10, "node2 back")
    wait_for(lambda: env.fib("node3").get(f"{VIP}/32") == both, 5, "node3 FIB both again")


def test_killed_gobgpd_is_dropped_and_restarted_gobgpd_is_reapplied(env: Env) -> None:
    wait_for(lambda: env.router_hops(VIP) == both, 20, "VIP via both nodes")
    node1 = env.nodes["node1"]
    assert node1.gobgpd is not None
    Lab.stop(node1.gobgpd, signal.SIGKILL)
    wait_for(lambda: env.router_hops(VIP) == ["198.51.100.12"], 15, "router drops node1")
    revision_before = env.client.get("/v1/status").json()["revision"]
    started = time.monotonic()
    env.start_gobgpd(node1)  # config-less, empty: the agent must notice and re-apply
    wait_for(lambda: env.router_hops(VIP) == both, 25, "node1's VIP back without REST")
    print(f"re-announced {time.monotonic() - started:.1f} s after the restart")
    assert env.client.get("/v1/status").json()["revision"] == revision_before
    wait_for(lambda: env.router_hops(NODES["node1"][2]) == ["198.51.100.11"], 10, "pod CIDR")


def test_local_traffic_policy_announces_only_from_nodes_with_a_ready_endpoint(env: Env) -> None:
    service = {
        "type": "LoadBalancer",
        "clusterIPs": ["10.96.0.20"],
        "loadBalancerIPs": [SERVICE_IP],
        "externalTrafficPolicy": "Local",
        "ports": [{"port": 80, "targetPort": 8080}],
    }
    put(env.client, "/v1/namespaces/default/services/web", {"spec": service})

    def endpoints(ready: bool) -> None:
        body = {
            "endpoints": [
                {"addresses": ["198.18.2.5"], "nodeName": "node2", "conditions": {"ready": ready}}
            ],
            "ports": [{"port": 8080}],
        }
        put(env.client, "/v1/namespaces/default/services/web/endpoints", body)

    endpoints(True)
    wait_for(lambda: env.router_hops(SERVICE_IP) == ["198.51.100.12"], 10, "only node2")
    time.sleep(1.0)  # nothing else shows up later
    assert env.router_hops(SERVICE_IP) == ["198.51.100.12"]
    endpoints(False)
    wait_for(lambda: env.router_hops(SERVICE_IP) == [], 10, "withdrawn")


def test_withdrawn_pod_cidr_leaves_the_other_nodes_fibs(env: Env) -> None:
    node2 = env.nodes["node2"]
    cidr = node2.pod_cidr
    wait_for(lambda: env.fib("node1").get(cidr) == [node2.address], 10, "node2's CIDR learned")
    body = node_body(node2, lb=True)
    body["spec"]["podCIDRs"] = []
    put(env.client, "/v1/nodes/node2", body)
    wait_for(lambda: cidr not in env.fib("node1"), 5, "gone from node1's FIB")
    wait_for(lambda: cidr not in env.fib("node3"), 5, "gone from node3's FIB")
    assert env.router_hops(cidr) == []
    put(env.client, "/v1/nodes/node2", node_body(node2, lb=True))
    wait_for(lambda: env.fib("node1").get(cidr) == [node2.address], 10, "learned again")
