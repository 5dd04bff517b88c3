"""The reconciler against the recording driver: ordering, pending, retries, failures, resync."""

from __future__ import annotations

from dataclasses import replace

import pytest

from switchyard_agent.drivers import host_interface_key
from switchyard_agent.drivers.recording import Call
from switchyard_agent.reconciler import Failure, ObjectState, dependency_order
from switchyard_contract.nodeconfig import (
    Acl,
    AclBinding,
    AclRule,
    Backend,
    BgpAnnouncement,
    BgpGlobal,
    BgpPeer,
    GreTunnel,
    LbGlobal,
    LbServer,
    LbVip,
    ManagedInterface,
    NextHop,
    Route,
    ServiceFrontend,
    SnatConfig,
)

from . import Rig, config, rig

ACL_A = Acl("a" * 8, (AclRule(2, "10.0.0.0/8", "0.0.0.0/0"),))
ACL_B = Acl("b" * 8, (AclRule(1, "0.0.0.0/0", "0.0.0.0/0", proto=6),))
ACL_C = Acl("c" * 8, (AclRule(0, "192.0.2.0/24", "0.0.0.0/0"),))
POD_IF = ManagedInterface("memif1/0", "pod")
UPLINK = ManagedInterface("eth0", "uplink")
BINDING = AclBinding("memif1/0", (ACL_A.name,), (ACL_B.name,))
FRONTEND = ServiceFrontend(
    "10.96.0.10", "TCP", 80, "clusterIP", (Backend("10.1.0.5", 8080),), service="default/web"
)
SNAT = SnatConfig("192.0.2.10", None, ("10.1.0.0/16", "10.96.0.0/12"))
LB_GLOBAL = LbGlobal("192.0.2.10", None, 1024, 40)
VIP = LbVip("203.0.113.10/32", "TCP", 80, "gre4", None, 1024, (LbServer("192.0.2.21"),), "lb1")
GRE = GreTunnel("192.0.2.21", "192.0.2.10")
ROUTE = Route("198.18.0.0/24", (NextHop("192.0.2.1", "eth0"),))
BGP = BgpGlobal(65100, "192.0.2.10")
PEER = BgpPeer("192.0.2.1", 65000)
PATH = BgpAnnouncement("203.0.113.10/32", "192.0.2.10")

EVERYTHING = config(
    ACL_A, ACL_B, POD_IF, UPLINK, BINDING, FRONTEND, SNAT, LB_GLOBAL, VIP, GRE, ROUTE, BGP, PEER,
    PATH,
)  # fmt: skip


def mutations(r: Rig) -> list[tuple[str, str]]:
    return [(c.op, c.key) for c in r.driver.mutating_calls()]


def position(r: Rig, op: str, key: str) -> int:
    return mutations(r).index((op, key))


def applied_rig() -> Rig:
    r = rig(plugged=["memif1/0", "eth0"])
    result = r.reconciler.apply_snapshot(1, EVERYTHING)
    assert result.ok and not result.pending, result
    r.driver.reset_calls()
    return r


# ---------------------------------------------------------------- ordering


def test_creates_follow_dependencies() -> None:
    r = rig(plugged=["memif1/0", "eth0"])
    result = r.reconciler.apply_snapshot(1, EVERYTHING)

    assert result.ok and result.revision == 1
    assert (result.created, result.updated, result.deleted) == (len(EVERYTHING), 0, 0)
    assert r.driver.vpp.values() | r.driver.gobgp.values() == EVERYTHING
    created = position(r, "create", BINDING.key)
    assert position(r, "create", ACL_A.key) < created
    assert position(r, "create", ACL_B.key) < created
    assert position(r, "create", POD_IF.key) < created
    assert position(r, "create", LB_GLOBAL.key) < position(r, "create", VIP.key)
    assert r.driver.gobgp.mutating_calls()[0] == Call("bgp-global", "create", "bgp-global")


def test_deletes_go_in_reverse_dependency_order() -> None:
    r = applied_rig()
    result = r.reconciler.apply_snapshot(2, {})

    assert result.ok and result.deleted == len(EVERYTHING)
    assert r.driver.vpp.values() == {} and r.driver.gobgp.values() == {}
    unbound = position(r, "delete", BINDING.key)
    assert unbound < position(r, "delete", ACL_A.key)
    assert unbound < position(r, "delete", ACL_B.key)
    assert unbound < position(r, "delete", POD_IF.key)
    assert position(r, "delete", VIP.key) < position(r, "delete", LB_GLOBAL.key)
    assert r.driver.gobgp.mutating_calls()[-1] == Call("bgp-global", "delete", "bgp-global")


def test_binding_moves_to_a_new_acl_before_the_old_one_is_deleted() -> None:
    r = applied_rig()
    moved = replace(BINDING, input_acls=(ACL_C.name,))
    result = r.reconciler.apply_delta(2, config(ACL_C, moved), [ACL_A.key])

    assert result.ok
    assert mutations(r) == [
        ("create", ACL_C.key),
        ("update", BINDING.key),
        ("delete", ACL_A.key),
    ]


# ---------------------------------------------------------------- pending


def test_objects_on_a_missing_interface_wait_until_it_appears() -> None:
    r = rig(plugged=["eth0"])
    result = r.reconciler.apply_snapshot(1, config(ACL_A, ACL_B, POD_IF, BINDING))

    assert result.ok  # pending is not an error
    assert result.pending == (BINDING.key, POD_IF.key)
    assert mutations(r) == [("create", ACL_A.key), ("create", ACL_B.key)]
    status = r.reconciler.status(POD_IF.key)
    assert status is not None and status.state is ObjectState.PENDING
    assert status.message == "waiting for vpp-interface/memif1/0"

    r.driver.reset_calls()
    r.driver.vpp.plug("memif1/0")
    result = r.reconciler.notify_available(host_interface_key("memif1/0"))

    assert result.ok and not result.pending and result.created == 2
    assert mutations(r) == [("create", POD_IF.key), ("create", BINDING.key)]


def test_an_interface_that_goes_away_takes_its_objects_without_calls() -> None:
    r = applied_rig()
    r.driver.vpp.unplug("memif1/0")
    r.driver.vpp.drop(BINDING.key)  # VPP forgets what hung on the deleted interface
    r.driver.vpp.drop(POD_IF.key)
    result = r.reconciler.notify_unavailable(host_interface_key("memif1/0"))

    assert mutations(r) == []
    assert result.pending == (BINDING.key, POD_IF.key)
    assert BINDING.key not in r.reconciler.actual()

    r.driver.vpp.plug("memif1/0")
    result = r.reconciler.notify_available(host_interface_key("memif1/0"))
    assert mutations(r) == [("create", POD_IF.key), ("create", BINDING.key)]
    assert not result.pending


def test_a_failed_dependency_leaves_its_dependants_pending_not_failed() -> None:
    r = rig(plugged=["memif1/0"])
    r.driver.vpp.fail(key=ACL_A.key, message="bad rule")
    result = r.reconciler.apply_snapshot(1, config(ACL_A, ACL_B, POD_IF, BINDING))

    assert [f.key for f in result.failures] == [ACL_A.key]
    assert result.pending == (BINDING.key,)
    assert r.driver.count("create", key=BINDING.key) == 0


# ---------------------------------------------------------------- retries and failures


def test_a_transient_failure_is_retried_with_backoff_and_succeeds() -> None:
    r = rig()
    r.driver.vpp.fail(key=FRONTEND.key, times=2)
    result = r.reconciler.apply_snapshot(1, config(FRONTEND, SNAT))

    assert result.ok and result.created == 2
    assert r.driver.count("create", key=FRONTEND.key) == 3
    assert r.clock.sleeps == [0.05, 0.1]


def test_a_longer_transient_outage_is_parked_and_retried_later() -> None:
    r = rig()
    r.driver.gobgp.fail(key=BGP.key, times=5, message="bgp server busy")
    result = r.reconciler.apply_snapshot(1, config(BGP, PEER, PATH))

    assert result.failures == (
        Failure(BGP.key, "create failed: bgp server busy (create bgp-global)", True),
    )
    assert result.pending == (PATH.key, PEER.key)
    assert r.driver.count("create", key=BGP.key) == 3
    assert r.reconciler.retry_due() is None  # the backoff has not elapsed

    due = r.reconciler.next_retry_at()  # exponential, capped: the wait after 3 failures
    assert due is not None and due - r.clock.now == pytest.approx(0.2)
    r.clock.now = due
    retried = r.reconciler.retry_due()
    assert retried is not None and not retried.ok  # 4th attempt fails, one attempt per retry
    later = r.reconciler.next_retry_at()
    assert later is not None and later - r.clock.now == pytest.approx(0.4)

    r.clock.now = later
    assert r.reconciler.retry_due() is not None  # 5th fails
    r.clock.now = r.reconciler.next_retry_at() or 0.0
    retried = r.reconciler.retry_due()
    assert retried is not None and retried.ok and not retried.pending
    assert retried.created == 3
    assert r.reconciler.next_retry_at() is None


def test_a_permanent_failure_is_reported_the_rest_applied_and_cleared_by_good_state() -> None:
    r = rig(plugged=["memif1/0", "eth0"])
    r.driver.vpp.fail(key=VIP.key, message="invalid encap")
    result = r.reconciler.apply_snapshot(1, EVERYTHING)

    assert result.failures == (
        Failure(VIP.key, f"create failed: invalid encap (create {VIP.key})", False),
    )
    assert r.driver.count("create", key=VIP.key) == 1  # never retried as is
    assert set(r.driver.vpp.values()) | set(r.driver.gobgp.values()) == set(EVERYTHING) - {VIP.key}

    # The next desired state no longer has the bad object: the error is gone, nothing redone.
    r.driver.reset_calls()
    good = {k: v for k, v in EVERYTHING.items() if k != VIP.key}
    result = r.reconciler.apply_snapshot(2, good)
    assert result.ok and result.revision == 2 and mutations(r) == []

    # And a corrected value is applied once the dataplane accepts it.
    r.driver.vpp.clear_faults()
    result = r.reconciler.apply_delta(3, config(replace(VIP, encap="l3dsr", dscp=10)), [])
    assert result.ok and result.created == 1


def test_a_failed_update_keeps_the_previous_object_and_its_users() -> None:
    r = applied_rig()
    r.driver.vpp.fail(kind="acl", op="update", message="acl_add_replace: -1")
    changed = replace(ACL_A, rules=(AclRule(0, "0.0.0.0/0", "0.0.0.0/0"),))
    result = r.reconciler.apply_delta(2, config(changed, FRONTEND), [])

    assert [f.key for f in result.failures] == [ACL_A.key]
    assert r.reconciler.actual()[ACL_A.key] == ACL_A
    assert r.driver.vpp.values()[ACL_A.key] == ACL_A
    binding = r.reconciler.status(BINDING.key)
    assert binding is not None and binding.state is ObjectState.APPLIED  # not undone
    assert r.driver.count("delete") == 0


def test_deleting_an_acl_waits_while_a_binding_still_uses_it() -> None:
    r = applied_rig()
    r.driver.vpp.fail(key=ACL_C.key, message="table full")
    moved = replace(BINDING, input_acls=(ACL_C.name,))
    result = r.reconciler.apply_delta(2, config(ACL_C, moved), [ACL_A.key])

    assert [f.key for f in result.failures] == [ACL_C.key]
    assert set(result.pending) == {BINDING.key, ACL_A.key}
    assert r.driver.count("delete") == 0 and r.driver.count("update") == 0
    assert r.driver.vpp.values()[BINDING.key] == BINDING  # still filtering with ACL A

    r.driver.vpp.clear_faults()
    r.driver.reset_calls()
    result = r.reconciler.apply_delta(3, config(ACL_C), [])
    assert result.ok and not result.pending
    assert mutations(r) == [
        ("create", ACL_C.key),
        ("update", BINDING.key),
        ("delete", ACL_A.key),
    ]


def test_config_errors_are_permanent_failures() -> None:
    r = rig()
    result = r.reconciler.apply_snapshot(1, {"nope/1": SNAT, "frontend/x": FRONTEND})
    assert {f.key for f in result.failures} == {"nope/1", "frontend/x"}
    assert mutations(r) == []


# ---------------------------------------------------------------- update vs recreate


def test_changes_are_updated_in_place_when_the_dataplane_can() -> None:
    r = applied_rig()
    more = replace(FRONTEND, backends=(*FRONTEND.backends, Backend("10.1.0.6", 8080)))
    vip = replace(VIP, servers=(LbServer("192.0.2.21"), LbServer("192.0.2.22")))
    result = r.reconciler.apply_delta(2, config(more, vip), [])

    assert (result.created, result.updated, result.deleted) == (0, 2, 0)
    assert mutations(r) == [("update", FRONTEND.key), ("update", VIP.key)]


def test_changes_the_dataplane_cannot_update_are_deleted_and_recreated() -> None:
    r = applied_rig()
    sticky = replace(FRONTEND, affinity_timeout=10800)  # flow_hash_config: creation only
    result = r.reconciler.apply_delta(2, config(sticky), [])

    assert (result.created, result.updated, result.deleted) == (1, 0, 1)
    assert mutations(r) == [("delete", FRONTEND.key), ("create", FRONTEND.key)]


def test_an_equivalent_object_is_never_touched() -> None:
    r = applied_rig()
    relabelled = replace(FRONTEND, service="default/web-renamed")  # not in the dataplane
    result = r.reconciler.apply_delta(2, config(relabelled), [])
    assert result.ok and mutations(r) == []


def test_recreating_takes_dependants_down_and_brings_them_back() -> None:
    r = applied_rig()
    result = r.reconciler.apply_delta(2, config(replace(BGP, asn=65200)), [])

    assert result.ok and not result.pending
    assert mutations(r)[:2] in (
        [("delete", PATH.key), ("delete", PEER.key)],
        [("delete", PEER.key), ("delete", PATH.key)],
    )
    assert mutations(r)[2:4] == [("delete", BGP.key), ("create", BGP.key)]
    assert sorted(mutations(r)[4:]) == [("create", PATH.key), ("create", PEER.key)]
    assert r.driver.gobgp.values()[BGP.key] == replace(BGP, asn=65200)


def test_reapplying_the_same_config_makes_no_calls() -> None:
    r = applied_rig()
    assert r.reconciler.apply_snapshot(2, EVERYTHING).ok
    assert r.reconciler.apply_delta(3, EVERYTHING, []).ok
    assert mutations(r) == []


# ---------------------------------------------------------------- resync


def restarted_agent(r: Rig) -> Rig:
    """A new reconciler (agent restart) over the same, already configured dataplane."""
    fresh = rig(r.driver)
    r.driver.reset_calls()
    return fresh


def test_resync_keeps_every_matching_object() -> None:
    r = restarted_agent(applied_rig())
    result = r.reconciler.resync()
    assert result.ok and mutations(r) == []  # no snapshot yet: learn, touch nothing

    result = r.reconciler.apply_snapshot(5, EVERYTHING)
    assert result.ok and not result.pending and mutations(r) == []
    assert r.reconciler.owned_counts()["acl"] == 2

    # Ids learnt from the dump are the ones later calls use (the driver checks them).
    result = r.reconciler.apply_delta(6, config(replace(ACL_A, rules=())), [])
    assert result.ok and mutations(r) == [("update", ACL_A.key)]


def test_resync_repairs_drift_behind_the_agents_back() -> None:
    r = applied_rig()
    r.driver.vpp.tamper(replace(FRONTEND, backends=(Backend("10.9.9.9", 80),)))
    r.driver.vpp.drop(ACL_B.key)
    r.driver.gobgp.drop(PATH.key)
    result = r.reconciler.resync()

    assert result.ok
    assert sorted(mutations(r)) == [
        ("create", ACL_B.key),
        ("create", PATH.key),
        ("update", FRONTEND.key),
    ]
    assert r.driver.vpp.values()[FRONTEND.key] == FRONTEND


def test_resync_removes_owned_leftovers_and_never_touches_foreign_objects() -> None:
    r = applied_rig()
    leftover = Route("198.19.0.0/24", (NextHop("192.0.2.1"),))
    r.driver.vpp.store(leftover.key, leftover)  # made by a previous run of the agent
    foreign_route = Route("0.0.0.0/0", (NextHop("192.0.2.254"),))
    foreign_acl = Acl("operator", (AclRule(0, "0.0.0.0/0", "0.0.0.0/0"),))
    r.driver.vpp.put_foreign(foreign_route)
    r.driver.vpp.put_foreign(foreign_acl)
    result = r.reconciler.resync()

    assert result.ok and mutations(r) == [("delete", leftover.key)]
    assert {foreign_route.key, foreign_acl.key} <= set(r.driver.vpp.values())

    # Desired over a foreign object: identical is adopted without a call and never deleted;
    # different is a conflict, reported, and the foreign object stays as it is.
    other = replace(foreign_acl, rules=())
    result = r.reconciler.apply_delta(6, config(foreign_route, other), [])
    assert mutations(r) == [("delete", leftover.key)]
    assert [f.key for f in result.failures] == [foreign_acl.key]
    assert "foreign" in result.failures[0].message
    result = r.reconciler.apply_delta(7, {}, [foreign_route.key, foreign_acl.key])
    assert result.ok and mutations(r) == [("delete", leftover.key)]
    assert r.driver.vpp.values()[foreign_route.key] == foreign_route
    assert r.driver.vpp.values()[foreign_acl.key] == foreign_acl


def test_a_lost_vpp_connection_suspends_vpp_only_until_resync() -> None:
    r = applied_rig()
    r.driver.vpp.disconnect()
    extra = replace(FRONTEND, port=443)
    path = BgpAnnouncement("198.18.0.0/24", "192.0.2.10")
    result = r.reconciler.apply_delta(2, config(extra, path), [])

    assert result.suspended == ("vpp",) and result.needs_resync
    assert extra.key in result.pending
    assert r.driver.vpp.count() == 1  # one call hit the dead socket, no more
    assert r.driver.gobgp.mutating_calls() == [Call("bgp-path", "create", path.key)]

    # VPP restarted empty: reconnect, dump, recreate everything in dependency order.
    r.driver.vpp.restart()
    r.driver.reset_calls()
    result = r.reconciler.resync("vpp")
    assert result.ok and not result.pending and not result.suspended
    assert r.driver.gobgp.calls == []
    assert result.created == len(r.driver.vpp.objects) == 12
    assert position(r, "create", ACL_A.key) < position(r, "create", BINDING.key)


def test_a_gobgp_restart_reapplies_bgp_only() -> None:
    r = applied_rig()
    r.driver.gobgp.restart()  # the driver saw asn 0
    result = r.reconciler.resync("gobgp")

    assert result.ok and r.driver.vpp.calls == []
    assert mutations(r)[0] == ("create", BGP.key)
    assert sorted(mutations(r)[1:]) == [("create", PATH.key), ("create", PEER.key)]


def test_a_failed_dump_keeps_previous_knowledge_and_reports_it() -> None:
    r = applied_rig()
    r.driver.vpp.fail(kind="acl", op="dump", message="acl_dump: -5")
    result = r.reconciler.resync("vpp")
    assert [f.key for f in result.failures] == ["acl/*"]
    assert mutations(r) == [] and ACL_A.key in r.reconciler.actual()


def test_dependency_order_is_deterministic_and_reports_cycles() -> None:
    deps = {"c": ["b"], "b": ["a", "outside"], "a": [], "x": ["y"], "y": ["x"]}
    order, cyclic = dependency_order(deps, lambda key: deps[key])
    assert order == ["a", "b", "c"] and cyclic == ["x", "y"]
