"""The VPP driver against the emulator, through real vpp_papi, with the real reconciler: every
kind, minimal calls, restarts and failures."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from switchyard_agent.descriptors import ConnectionLost
from switchyard_agent.drivers.vpp import (
    IncompatibleVppError,
    VppConnection,
)
from switchyard_agent.reconciler import ObjectState
from switchyard_contract.nodeconfig import (
    Acl,
    AclBinding,
    AclRule,
    Backend,
    LbGlobal,
    LbServer,
    LbVip,
    ServiceFrontend,
)
from tests.vpp.scenario import (
    DNS,
    NODE4,
    WEB,
    agent,
    assert_full_state,
    by_key,
    full_config,
    mutating,
    node,
    paths,
    translations,
)
from tests.vppemu.harness import Emulator


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
