"""The VPP driver against the emulator, through real vpp_papi, with the real reconciler."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from switchyard_agent.descriptors import ConnectionLost
from switchyard_agent.drivers.vpp import (
    IncompatibleVppError,
    VppConnection,
    VppDriver,
)
from switchyard_agent.drivers.vpp.frontend import IPV6_REFUSED, TranslationPacker
from switchyard_agent.reconciler import ObjectState, Reconciler
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

try:
    from tests.vppemu.harness import Emulator
except ImportError:  # tests/ is on sys.path instead of the repo root
    from vppemu.harness import Emulator  # type: ignore[no-redef]

pytestmark = pytest.mark.vpp_api

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


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    emulator = Emulator(tmp_path_factory.mktemp("vppemu")).start()
    yield emulator
    emulator.stop()


@pytest.fixture(scope="module")
def shared_conn(emu: Emulator) -> Iterator[VppConnection]:
    connection = VppConnection(str(emu.socket_path), read_timeout=3.0)
    connection.connect()
    yield connection
    connection.disconnect()


@pytest.fixture
def fresh(emu: Emulator) -> Emulator:
    """The module's emulator, running and empty (its clients stay connected)."""
    if not emu.running:
        emu.start()
    emu.reset(drop_connections=False)
    return emu


@pytest.fixture
def conn(fresh: Emulator, shared_conn: VppConnection) -> VppConnection:
    """A connection to the fresh emulator (connecting costs ~1 s: shared by the module)."""
    if not shared_conn.connected:
        shared_conn.reconnect()
    fresh.reset_counts()
    return shared_conn


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


def test_every_kind_applied_and_reapplying_costs_nothing(
    fresh: Emulator, conn: VppConnection, tmp_path: Path
) -> None:
    node(fresh)
    _, reconciler = agent(conn, tmp_path)
    result = reconciler.apply_snapshot(1, by_key(full_config()))
    assert result.ok and not result.pending, result
    assert_full_state(fresh)
    assert fresh.unimplemented() == []

    fresh.reset_counts()
    again = reconciler.apply_snapshot(2, by_key(full_config()))
    assert again.ok and (again.created, again.updated, again.deleted) == (0, 0, 0)
    assert mutating(fresh.call_counts()) == {}
    resynced = reconciler.resync()
    assert resynced.ok and mutating(fresh.call_counts()) == {}

    # An agent restart: new driver and reconciler over the same state directory.
    _, restarted = agent(conn, tmp_path)
    after = restarted.apply_snapshot(2, by_key(full_config()))
    assert after.ok and not after.pending
    assert (after.created, after.updated, after.deleted) == (0, 0, 0)
    assert mutating(fresh.call_counts()) == {}
    assert_full_state(fresh)


def test_endpoint_changes_cost_one_call_and_empty_services_are_deleted(
    fresh: Emulator, conn: VppConnection, tmp_path: Path
) -> None:
    node(fresh)
    _, reconciler = agent(conn, tmp_path)
    assert reconciler.apply_snapshot(1, by_key(full_config())).ok
    fresh.reset_counts()
    grown = dataclasses.replace(WEB, backends=(*WEB.backends, Backend("10.1.0.8", 8080)))
    assert reconciler.apply_delta(2, {WEB.key: grown}, ()).ok
    assert mutating(fresh.call_counts()) == {"cnat_translation_update": 1}
    assert paths(translations(fresh)[("10.96.0.10", 80, 6)])[-1] == ("10.1.0.8", 8080)

    # The last endpoint turns terminating, then goes: the translation is deleted, never
    # sent with zero paths (which would abort VPP).
    fresh.reset_counts()
    draining = dataclasses.replace(
        WEB, backends=tuple(dataclasses.replace(b, weight=0) for b in grown.backends)
    )
    assert reconciler.apply_delta(3, {WEB.key: draining}, ()).ok
    assert ("10.96.0.10", 80, 6) not in translations(fresh)
    assert mutating(fresh.call_counts()) == {"cnat_translation_del": 1}
    empty = dataclasses.replace(WEB, backends=())
    assert reconciler.apply_delta(4, {WEB.key: empty}, ()).ok
    back = reconciler.apply_delta(5, {WEB.key: WEB}, ())
    assert back.ok and paths(translations(fresh)[("10.96.0.10", 80, 6)]) == [
        ("10.1.0.5", 8080),
        ("10.1.0.6", 8080),
    ]
    # A service without endpoints from the start makes no call at all.
    fresh.reset_counts()
    lonely = ServiceFrontend("10.96.0.99", "TCP", 80, "clusterIP", ())
    assert reconciler.apply_delta(6, {lonely.key: lonely}, ()).ok
    assert mutating(fresh.call_counts()) == {}
    assert reconciler.apply_delta(7, {}, (lonely.key, WEB.key)).ok
    assert ("10.96.0.10", 80, 6) not in translations(fresh)
    assert fresh.state()["crashes"] == 0


def test_affinity_change_recreates_the_translation(
    fresh: Emulator, conn: VppConnection, tmp_path: Path
) -> None:
    _, reconciler = agent(conn, tmp_path)
    assert reconciler.apply_snapshot(1, by_key([WEB])).ok
    sticky = dataclasses.replace(WEB, affinity_timeout=600)
    fresh.reset_counts()
    assert reconciler.apply_snapshot(2, by_key([sticky])).ok
    assert mutating(fresh.call_counts()) == {
        "cnat_translation_del": 1,
        "cnat_translation_update": 1,
    }
    assert translations(fresh)[("10.96.0.10", 80, 6)]["flow_hash_config"] == 1


def test_vpp_restart_is_noticed_and_resync_reapplies_everything(
    fresh: Emulator, conn: VppConnection, tmp_path: Path
) -> None:
    node(fresh)
    _, reconciler = agent(conn, tmp_path)
    assert reconciler.apply_snapshot(1, by_key(full_config())).ok
    fresh.restart()  # SIGKILL + a fresh, empty VPP on the same socket
    node(fresh)  # the startup config / CNI bring the interfaces back

    grown = dataclasses.replace(WEB, backends=(*WEB.backends, Backend("10.1.0.8", 8080)))
    lost = reconciler.apply_delta(2, {WEB.key: grown}, ())
    assert lost.suspended == ("vpp",) and lost.needs_resync
    assert reconciler.status(WEB.key).state is ObjectState.PENDING  # type: ignore[union-attr]
    with pytest.raises(ConnectionLost):
        conn.call("control_ping")

    conn.reconnect()
    result = reconciler.resync("vpp")
    assert result.ok and not result.pending and not result.suspended, result
    assert paths(translations(fresh)[("10.96.0.10", 80, 6)])[-1] == ("10.1.0.8", 8080)
    config = [grown if o.key == WEB.key else o for o in full_config()]
    fresh.reset_counts()
    assert reconciler.apply_snapshot(3, by_key(config)).ok
    assert mutating(fresh.call_counts()) == {}
    state = fresh.state()
    assert state["cnat"]["feature_interfaces"] and state["cnat"]["snat_policy"] == 2
    assert len(state["lb"]["vips"]) == 2 and len(state["acl"]["acls"]) == 2


def test_failure_is_reported_per_object_and_recovers(
    fresh: Emulator, conn: VppConnection, tmp_path: Path
) -> None:
    node(fresh)
    _, reconciler = agent(conn, tmp_path)
    assert reconciler.apply_snapshot(1, by_key(full_config())).ok
    before = translations(fresh)
    moved = dataclasses.replace(WEB, backends=(Backend("10.1.0.20", 8080),))
    other = dataclasses.replace(DNS, backends=(Backend("10.1.0.21", 53),))
    fresh.inject_failure("cnat_translation_update", retval=-7, times=1)
    result = reconciler.apply_delta(2, {WEB.key: moved, DNS.key: other}, ())
    assert [f.key for f in result.failures] == [WEB.key]  # sorted first, so it hit the fault
    message = result.failures[0].message
    assert "cnat_translation_update failed: retval -7 (INVALID_VALUE)" in message
    after = translations(fresh)
    assert after[("10.96.0.10", 80, 6)] == before[("10.96.0.10", 80, 6)]  # not worse
    assert paths(after[("10.96.0.53", 53, 17)]) == [("10.1.0.21", 53)]  # others applied
    # ACL failure: the binding that needs it waits; the rest is fine.
    acl3 = Acl("np-cccc", (AclRule(1, "10.2.0.0/16", "0.0.0.0/0"),))
    binding = AclBinding("memif0/1", ("np-cccc",), ())
    fresh.inject_failure("acl_add_replace", retval=-1, times=1)
    partial = reconciler.apply_delta(3, {acl3.key: acl3, binding.key: binding}, ())
    assert {f.key for f in partial.failures} == {WEB.key, acl3.key}
    assert binding.key in partial.pending
    # The next apply of the whole config recovers.
    config = by_key(
        [moved if o.key == WEB.key else other if o.key == DNS.key else o for o in full_config()]
    )
    config.update({acl3.key: acl3, binding.key: binding})
    recovered = reconciler.apply_snapshot(4, config)
    assert recovered.ok and not recovered.pending, recovered
    assert paths(translations(fresh)[("10.96.0.10", 80, 6)]) == [("10.1.0.20", 8080)]


def test_incompatible_vpp_is_refused_with_names_and_version(tmp_path: Path) -> None:
    with Emulator(tmp_path, drop_messages=["lb_conf"], corrupt_crcs=["acl_del"]) as emu:
        for bootstrap in (True, False):
            connection = VppConnection(
                str(emu.socket_path), bootstrap=bootstrap, apidir=str(emu.apidir)
            )
            with pytest.raises(IncompatibleVppError) as caught:
                connection.connect()
            message = str(caught.value)
            assert "lb_conf" in message and "acl_del" in message
            assert "26.10-rc0~374-gb575ec2c56d" in message
            assert caught.value.missing == ("lb_conf",)
            assert caught.value.changed == ("acl_del",)
            assert not connection.connected


def test_weighted_servers_fall_back_when_vpp_lacks_them(tmp_path: Path) -> None:
    optional = ["lb_add_del_as_v2", "lb_as_set_weight", "lb_as_v2_dump"]
    with Emulator(tmp_path, drop_messages=optional) as emu:
        connection = VppConnection(str(emu.socket_path))
        connection.connect()
        try:
            assert not connection.has("lb_add_del_as_v2")
            _, reconciler = agent(connection, tmp_path)
            vip = LbVip(
                "203.0.113.10/32",
                "TCP",
                80,
                "gre4",
                None,
                1024,
                (LbServer("192.168.1.20"), LbServer("192.168.1.21")),
            )
            lb = LbGlobal(NODE4, None, 1024, 40)
            assert reconciler.apply_snapshot(1, by_key([lb, vip])).ok
            drained = dataclasses.replace(
                vip, servers=(LbServer("192.168.1.20"), LbServer("192.168.1.21", 0))
            )
            emu.reset_counts()
            assert reconciler.apply_snapshot(2, by_key([lb, drained])).ok
            assert mutating(emu.call_counts()) == {"lb_add_del_as": 1}  # delete, no flush
            (state,) = emu.state()["lb"]["vips"]
            assert {a["address"]: a["flags"] for a in state["ass"]} == {
                "192.168.1.20": 1,
                "192.168.1.21": 0,
            }
            emu.reset_counts()
            assert reconciler.resync().ok and mutating(emu.call_counts()) == {}
            assert reconciler.apply_snapshot(3, {}).ok
            assert emu.state()["lb"]["vips"] == []
        finally:
            connection.disconnect()


def test_foreign_objects_are_never_touched(
    fresh: Emulator, conn: VppConnection, tmp_path: Path
) -> None:
    node(fresh)
    # Someone else's ACL, translation, route, VIP and binding.
    foreign_acl = conn.call("acl_add_replace", acl_index=U32_MAX, tag="calico:x", count=0, r=[])
    conn.call(
        "cnat_translation_update",
        translation=TranslationPacker.fields("10.96.7.7", 443, 6, 0, 0, (("10.9.0.1", 443),)),
    )
    conn.call(
        "ip_route_add_del",
        is_add=True,
        route={
            "table_id": 0,
            "prefix": "172.16.0.0/12",
            "n_paths": 1,
            "paths": [
                {
                    "sw_if_index": U32_MAX,
                    "weight": 1,
                    "proto": 0,
                    "nh": {"address": {"ip4": "192.168.1.254"}},
                    "label_stack": [{}] * 16,
                }
            ],
        },
    )
    conn.call(
        "lb_add_del_vip_v2",
        pfx="198.18.0.1/32",
        protocol=6,
        port=443,
        encap=0,
        new_flows_table_length=16,
    )
    uplink = next(i["sw_if_index"] for i in fresh.state()["interfaces"] if i["name"] == "uplink0")
    conn.call(
        "acl_interface_set_acl_list",
        sw_if_index=uplink,
        count=1,
        n_input=1,
        acls=[foreign_acl.acl_index],
    )
    before = fresh.state()

    _, reconciler = agent(conn, tmp_path)
    assert reconciler.apply_snapshot(1, by_key(full_config())).ok
    assert reconciler.resync().ok
    assert reconciler.apply_snapshot(2, {}).ok  # remove everything of ours
    after = fresh.state()
    for part in ("cnat", "lb", "acl", "ip"):
        if part == "cnat":
            assert after["cnat"]["translations"] == before["cnat"]["translations"]
        else:
            assert after[part] == before[part], part
    assert after["gre"] == [] and after["cnat"]["feature_interfaces"] == []

    # A desired object that collides with a foreign one is a reported conflict, not a takeover.
    clash = ServiceFrontend("10.96.7.7", "TCP", 443, "clusterIP", (Backend("10.1.0.1", 443),))
    result = reconciler.apply_snapshot(3, by_key([clash]))
    assert [f.key for f in result.failures] == [clash.key]
    assert "foreign" in result.failures[0].message
    assert fresh.state()["cnat"]["translations"] == before["cnat"]["translations"]


def test_binding_waits_for_its_interface(
    fresh: Emulator, conn: VppConnection, tmp_path: Path
) -> None:
    _, reconciler = agent(conn, tmp_path)
    objects = [ManagedInterface("memif0/7", "pod"), ACL, AclBinding("memif0/7", (), ("np-aaaa",))]
    result = reconciler.apply_snapshot(1, by_key(objects))
    assert result.ok and set(result.pending) == {"interface/memif0/7", "acl-binding/memif0/7"}
    index = fresh.add_interface("memif0/7")
    done = reconciler.notify_available("vpp-interface/memif0/7")
    assert done.ok and not done.pending
    (binding,) = fresh.state()["acl"]["interfaces"]
    assert binding["sw_if_index"] == index and len(binding["output"]) == 1


def test_tampered_acl_is_replaced_in_place(
    fresh: Emulator, conn: VppConnection, tmp_path: Path
) -> None:
    node(fresh)
    _, reconciler = agent(conn, tmp_path)
    assert reconciler.apply_snapshot(1, by_key(full_config())).ok
    acls = {a["tag"]: a["acl_index"] for a in fresh.state()["acl"]["acls"]}
    index = acls["switchyard:np-aaaa"]
    conn.call("acl_add_replace", acl_index=index, tag="switchyard:np-aaaa", count=0, r=[])
    fresh.reset_counts()
    assert reconciler.resync().ok
    assert mutating(fresh.call_counts()) == {"acl_add_replace": 1}
    state = fresh.state()["acl"]
    assert {a["tag"]: a["acl_index"] for a in state["acls"]} == acls  # same index
    assert len(state["interfaces"]) == 1  # bindings kept


def test_ipv6_frontends_are_opt_in(fresh: Emulator, conn: VppConnection, tmp_path: Path) -> None:
    v6 = ServiceFrontend("fd00:96::10", "TCP", 80, "clusterIP", (Backend("fd00:1::5", 8080),))
    _, reconciler = agent(conn, tmp_path / "a")
    result = reconciler.apply_snapshot(1, by_key([v6]))
    assert [f.message for f in result.failures] == [f"create failed: {IPV6_REFUSED}"]
    assert "--allow-ipv6-frontends" in IPV6_REFUSED and "26.10" in IPV6_REFUSED
    _, allowed = agent(conn, tmp_path / "b", allow_ipv6_frontends=True)
    assert allowed.apply_snapshot(1, by_key([v6])).ok
    (t,) = fresh.state()["cnat"]["translations"]
    assert t["vip"]["addr"] == "fd00:96::10" and t["paths"][0]["src_ep"]["addr"] == "::"


def test_prefetch_pipelines_and_still_reports_per_object(
    fresh: Emulator, conn: VppConnection, tmp_path: Path
) -> None:
    driver, reconciler = agent(conn, tmp_path)
    services = [
        ServiceFrontend(
            f"10.97.{i // 250}.{i % 250}",
            "TCP",
            80,
            "clusterIP",
            tuple(Backend(f"10.2.{i // 250}.{(i + j) % 250}", 8080) for j in range(3)),
        )
        for i in range(300)
    ]
    desired = by_key(services)
    fresh.inject_failure("cnat_translation_update", retval=-7, times=1)
    fresh.reset_counts()
    assert driver.prefetch(desired, snapshot=True) == 300
    result = reconciler.apply_snapshot(1, desired)
    assert [f.key for f in result.failures] == [services[0].key]  # the first one sent
    assert result.created == 299
    assert fresh.call_counts()["cnat_translation_update"] == 300  # nothing sent twice
    assert len(fresh.state()["cnat"]["translations"]) == 299
    # Next snapshot: the failed one is retried, 100 removed (one dump, pipelined deletes).
    fresh.reset_counts()
    kept = by_key(services[:200])
    assert driver.prefetch(kept, snapshot=True) == 101
    result = reconciler.apply_snapshot(2, kept)
    assert result.ok and (result.created, result.deleted) == (1, 100)
    counts = mutating(fresh.call_counts())
    assert counts == {"cnat_translation_update": 1, "cnat_translation_del": 100}
    assert len(fresh.state()["cnat"]["translations"]) == 200


def test_cached_translation_packing_is_vpp_papis(conn: VppConnection) -> None:
    msg, msg_id = conn.message("cnat_translation_update")
    packer = TranslationPacker(msg, msg_id, conn.client_index)
    samples = [
        WEB,
        DNS,
        NODEPORT,
        dataclasses.replace(WEB, backends=()),
        ServiceFrontend("fd00::1", "SCTP", 9, "externalIP", (Backend("fd00::2", 1),)),
    ]
    for value in samples * 2:  # the second round comes from the caches
        assert packer.encode(value)(12345) == packer.reference(value, 12345)
