"""Shared setup of the VPP driver tests: the emulator fixtures live in conftest.py; this module
holds the sample configuration and the helpers that read the emulator's state."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from switchyard_agent.drivers.vpp import (
    VppConnection,
    VppDriver,
)
from switchyard_agent.reconciler import Reconciler
from switchyard_contract.nodeconfig import (
    Acl,
    AclBinding,
    AclRule,
    Backend,
    GreTunnel,
    LbGlobal,
    LbServer,
    LbVip,
    ManagedInterface,
    NextHop,
    NodeObject,
    Route,
    ServiceFrontend,
    SnatConfig,
)
from tests.vppemu.harness import Emulator

# Requests that change VPP state (everything but dumps, gets, pings and session handling).
READ_ONLY = frozenset(
    {
        "control_ping",
        "show_version",
        "get_api_json",
        "sockclnt_create",
        "sockclnt_delete",
        "lb_conf_get",
        "cnat_get_snat_addresses",
    }
)


def mutating(counts: dict[str, int]) -> dict[str, int]:
    return {
        name: n
        for name, n in counts.items()
        if n and name not in READ_ONLY and not name.endswith("_dump")
    }


U32_MAX = 0xFFFFFFFF
NODE4, NODE6 = "192.168.1.10", "fd00::10"


WEB = ServiceFrontend(
    "10.96.0.10",
    "TCP",
    80,
    "clusterIP",
    (Backend("10.1.0.5", 8080), Backend("10.1.0.6", 8080)),
    service="default/web",
)
DNS = ServiceFrontend(
    "10.96.0.53",
    "UDP",
    53,
    "clusterIP",
    (Backend("10.1.0.7", 53),),
    affinity_timeout=10800,
    service="kube-system/dns",
)
NODEPORT = ServiceFrontend(
    NODE4,
    "TCP",
    30080,
    "nodePort",
    (Backend("10.1.0.5", 8080), Backend("10.1.0.9", 8080, 0)),
    service="default/web",
)
ACL = Acl("np-aaaa", (AclRule(2, "0.0.0.0/0", "10.1.0.0/16", 6, 0, 65535, 80, 80),))
ACL2 = Acl("np-bbbb", (AclRule(0, "10.0.0.0/8", "0.0.0.0/0"),))


def full_config() -> list[NodeObject]:
    return [
        WEB,
        DNS,
        NODEPORT,
        ManagedInterface("uplink0", "uplink"),
        ManagedInterface("memif0/1", "pod"),
        SnatConfig(NODE4, NODE6, ("10.1.0.0/16", "10.96.0.0/12")),
        LbGlobal(NODE4, NODE6, 1024, 40),
        LbVip(
            "203.0.113.10/32",
            "TCP",
            80,
            "gre4",
            None,
            1024,
            (LbServer("192.168.1.20"), LbServer("192.168.1.21", 0)),
            load_balancer="lb1",
        ),
        LbVip("203.0.113.20/32", "UDP", 53, "l3dsr", 10, 512, (LbServer("192.168.1.22"),)),
        GreTunnel(NODE4, "192.168.1.99"),
        ACL,
        ACL2,
        AclBinding("memif0/1", ("np-bbbb",), ("np-aaaa",)),
        Route("198.51.100.0/24", (NextHop("192.168.1.1"), NextHop("192.168.1.2", "uplink0"))),
    ]


def by_key(objects: list[NodeObject]) -> dict[str, object]:
    return {o.key: o for o in objects}


def node(emu: Emulator) -> None:
    emu.add_interface("uplink0")
    emu.add_interface("memif0/1")


def agent(conn: VppConnection, tmp_path: Path, **kw: Any) -> tuple[VppDriver, Reconciler]:
    driver = VppDriver(conn, tmp_path / "state", **kw)
    reconciler = Reconciler(driver.descriptors, sleep=lambda _: None)
    reconciler.resync()  # what the agent does at start
    return driver, reconciler


def translations(emu: Emulator) -> dict[tuple[str, int, int], dict[str, Any]]:
    return {
        (t["vip"]["addr"], t["vip"]["port"], t["ip_proto"]): t
        for t in emu.state()["cnat"]["translations"]
    }


def paths(t: dict[str, Any]) -> list[tuple[str, int]]:
    return [(p["dst_ep"]["addr"], p["dst_ep"]["port"]) for p in t["paths"]]


def assert_full_state(emu: Emulator) -> None:
    state = emu.state()
    names = {i["name"]: i["sw_if_index"] for i in state["interfaces"]}
    cnat = state["cnat"]
    tr = translations(emu)
    assert set(tr) == {("10.96.0.10", 80, 6), ("10.96.0.53", 53, 17), (NODE4, 30080, 6)}
    web, dns, nodeport = (
        tr[("10.96.0.10", 80, 6)],
        tr[("10.96.0.53", 53, 17)],
        tr[(NODE4, 30080, 6)],
    )
    assert paths(web) == [("10.1.0.5", 8080), ("10.1.0.6", 8080)]
    assert (web["is_real_ip"], web["lb_type"], web["flow_hash_config"]) == (0, 1, 0)
    assert (dns["is_real_ip"], dns["flow_hash_config"]) == (0, 1)  # ClientIP: source IP only
    assert paths(nodeport) == [("10.1.0.5", 8080)]  # the weight-0 backend is removed
    assert nodeport["is_real_ip"] == 1
    assert cnat["feature_interfaces"] == sorted([names["uplink0"], names["memif0/1"]])
    pod = names["memif0/1"]
    assert cnat["snat_if_tables"] == [[pod], [pod], [pod], []]
    assert cnat["snat_policy"] == 2 and cnat["snat"]["flags"] == 2
    assert (cnat["snat"]["snat_ip4"], cnat["snat"]["snat_ip6"]) == (NODE4, NODE6)
    assert cnat["exclude_prefixes"] == ["10.1.0.0/16", "10.96.0.0/12"]
    lb = state["lb"]
    assert lb["conf"]["ip4_src_address"] == NODE4
    vips = {v["prefix"]: v for v in lb["vips"]}
    gre4 = vips["203.0.113.10/32"]
    assert (gre4["encap"], gre4["new_flows_table_length"]) == (0, 1024)
    assert {(a["address"], a["weight"]) for a in gre4["ass"] if a["flags"] & 1} == {
        ("192.168.1.20", 1),
        ("192.168.1.21", 0),
    }  # drained: weight 0, flows kept
    dsr = vips["203.0.113.20/32"]
    assert (dsr["encap"], dsr["dscp"], dsr["protocol"], dsr["port"]) == (2, 10, 17, 53)
    (tunnel,) = state["gre"]
    assert (tunnel["src"], tunnel["dst"]) == (NODE4, "192.168.1.99")
    assert next(i for i in state["interfaces"] if i["name"] == "gre0")["flags"] & 1
    acls = {a["tag"]: a for a in state["acl"]["acls"]}
    assert set(acls) == {"switchyard:np-aaaa", "switchyard:np-bbbb"}
    assert acls["switchyard:np-aaaa"]["rules"][0]["is_permit"] == 2
    (binding,) = state["acl"]["interfaces"]
    assert binding == {
        "sw_if_index": pod,
        "input": [acls["switchyard:np-bbbb"]["acl_index"]],
        "output": [acls["switchyard:np-aaaa"]["acl_index"]],
    }
    (v4,) = [t for t in state["ip"] if t["table_id"] == 0 and not t["is_ip6"]]
    (route,) = v4["routes"]
    assert route["prefix"] == "198.51.100.0/24"
    hops = {(p["nh"]["address"]["ip4"], p["sw_if_index"]) for p in route["paths"]}
    assert hops == {("192.168.1.1", U32_MAX), ("192.168.1.2", names["uplink0"])}
    assert state["crashes"] == 0 and state["internal_errors"] == []
