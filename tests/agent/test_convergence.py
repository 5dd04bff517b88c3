"""What the reconciler and the agent claim: only objects waiting for an interface that VPP does
not have yet may be pending in an ACKed revision; a dataplane that is down leaves the revision
NACKed; refused objects are retried by themselves (issue 10, defect 7); interfaces that appear
later are picked up."""

from __future__ import annotations

from pathlib import Path

import pytest

from switchyard.v1 import distribution_pb2 as dpb
from switchyard_agent.drivers import HOST_INTERFACE_KIND, host_interface_key
from switchyard_contract.nodeconfig import (
    Acl,
    AclBinding,
    AclRule,
    ManagedInterface,
    SnatConfig,
)

from . import config, rig
from .fake_controller import FakeController, objects
from .test_stream import BASE, SNAT, held, running

ACL = Acl("a" * 8, (AclRule(2, "10.0.0.0/8", "0.0.0.0/0"),))
POD_IF = ManagedInterface("memif1/0", "pod")
BINDING = AclBinding("memif1/0", (ACL.name,), ())
NODE_SNAT = SnatConfig("192.0.2.10", None, ("10.1.0.0/16",))
MEMIF = host_interface_key("memif1/0")


def keys(failures: tuple[object, ...]) -> list[str]:
    return [f.key for f in failures]


# --------------------------------------------------------------------------- what is applied


def test_waiting_for_an_absent_interface_is_the_only_pending_that_converges() -> None:
    r = rig()
    result = r.reconciler.apply_snapshot(1, config(ACL, POD_IF, BINDING, NODE_SNAT))
    assert result.pending == (BINDING.key, POD_IF.key)  # memif1/0 is not plugged yet
    assert result.not_applied == () and result.converged

    # A binding on an ACL that the configuration lacks waits for it, but that is not an
    # interface: the revision is not applied.
    orphan = AclBinding("memif1/0", ("z" * 8,), ())
    result = r.reconciler.apply_snapshot(2, config(POD_IF, orphan))
    assert keys(result.not_applied) == [orphan.key]
    assert "acl/zzzzzzzz" in result.not_applied[0].message and not result.converged


def test_a_disconnected_dataplane_leaves_its_objects_not_applied_until_resynced() -> None:
    r = rig()
    r.driver.vpp.disconnect()
    result = r.reconciler.apply_snapshot(1, config(ACL, NODE_SNAT))
    assert result.suspended == ("vpp",) and result.failures == ()
    assert keys(result.not_applied) == [ACL.key, NODE_SNAT.key]
    assert all("vpp disconnected" in f.message for f in result.not_applied)
    assert not result.converged

    r.driver.vpp.reconnect()
    result = r.reconciler.resync("vpp")
    assert result.converged and result.not_applied == () and result.created == 2


def test_a_probe_suspends_the_dataplane_without_calls() -> None:
    r = rig()
    assert r.reconciler.apply_snapshot(1, config(ACL)).converged
    r.driver.reset_calls()
    result = r.reconciler.suspend("vpp")
    assert result.suspended == ("vpp",) and not result.converged
    assert r.driver.vpp.calls == []
    r.reconciler.apply_delta(2, config(NODE_SNAT), ())
    assert r.driver.vpp.calls == []  # no calls into a dataplane a probe found dead


# --------------------------------------------------------------------------- refused objects


def test_a_refused_object_is_retried_with_a_bounded_backoff_until_the_cause_is_gone() -> None:
    r = rig()
    r.driver.vpp.fail(key=NODE_SNAT.key, message="table full")  # permanent until cleared
    result = r.reconciler.apply_snapshot(1, config(ACL, NODE_SNAT))
    assert keys(result.failures) == [NODE_SNAT.key] and not result.failures[0].retriable
    assert result.retrying == (NODE_SNAT.key,)
    assert r.reconciler.retry_due() is None  # not before its backoff

    waits = []
    for _ in range(9):
        due = r.reconciler.next_retry_at()
        assert due is not None
        waits.append(due - r.clock.now)
        r.clock.now = due
        retried = r.reconciler.retry_due()
        assert retried is not None and keys(retried.failures) == [NODE_SNAT.key]
    assert waits[:4] == pytest.approx([1.0, 2.0, 4.0, 8.0]) and max(waits) == 60.0
    assert r.driver.count("create", key=NODE_SNAT.key) == 10  # one call per retry

    r.driver.vpp.clear_faults()
    r.clock.now = r.reconciler.next_retry_at() or 0.0
    retried = r.reconciler.retry_due()
    assert retried is not None and retried.converged and retried.created == 1
    assert retried.retrying == () and r.reconciler.next_retry_at() is None


def test_a_bad_value_found_without_a_call_waits_for_a_new_value() -> None:
    r = rig()
    mismatched = {"acl/not-its-key": ACL}
    result = r.reconciler.apply_snapshot(1, mismatched)
    assert keys(result.failures) == ["acl/not-its-key"]
    assert result.retrying == () and r.reconciler.next_retry_at() is None


# --------------------------------------------------------------------------- interfaces


def test_refresh_external_applies_what_waits_for_a_new_interface_and_forgets_gone_ones() -> None:
    r = rig()
    r.reconciler.apply_snapshot(1, config(ACL, POD_IF, BINDING))
    assert r.reconciler.refresh_external(HOST_INTERFACE_KIND, set()) is None  # no change

    r.driver.vpp.plug("memif1/0")  # the CNI plugin created it: VPP has it
    result = r.reconciler.refresh_external(HOST_INTERFACE_KIND, {MEMIF})
    assert result is not None and result.pending == () and result.created == 2
    assert {POD_IF.key, BINDING.key} <= held(r.driver).keys()
    assert r.reconciler.refresh_external(HOST_INTERFACE_KIND, {MEMIF}) is None

    r.driver.vpp.unplug("memif1/0")  # deleted: VPP dropped what hung on it
    result = r.reconciler.refresh_external(HOST_INTERFACE_KIND, set())
    assert result is not None and result.pending == (BINDING.key, POD_IF.key)
    assert result.converged  # waiting for the interface again


# --------------------------------------------------------------------------- the agent


async def test_a_nacked_object_is_retried_and_late_acked_once_the_cause_is_gone(
    controller: FakeController, tmp_path: Path
) -> None:
    async with running(controller.target, tmp_path) as (_, driver):
        driver.vpp.fail(key=SNAT.key, message="VPP refused it")  # until cleared
        session = await controller.next_session()
        session.snapshot(3, BASE)
        nack = await session.nack()
        assert [e.key for e in nack.errors] == [SNAT.key]
        status = await session.status(lambda s: list(s.retrying_keys) == [SNAT.key])
        assert isinstance(status, dpb.Status)
        driver.vpp.clear_faults()  # the cause goes away; no new revision comes
        assert await session.ack(timeout=5) == 3
        assert held(driver) == BASE
        await session.status(lambda s: not s.retrying_keys)


async def test_a_snapshot_while_the_dataplane_is_down_is_nacked_then_acked(
    controller: FakeController, tmp_path: Path
) -> None:
    async with running(controller.target, tmp_path) as (agent, driver):
        driver.vpp.disconnect()
        driver.vpp.reconnect = driver.vpp.disconnect  # type: ignore[method-assign]  # VPP away
        session = await controller.next_session()
        session.snapshot(4, objects(ACL, NODE_SNAT))
        nack = await session.nack()
        assert nack.revision == 4 and "vpp disconnected" in nack.message
        assert sorted(e.key for e in nack.errors) == [ACL.key, NODE_SNAT.key]
        await session.status(lambda s: s.components["vpp"] == "disconnected")
        assert agent.metrics.health()["status"] == "degraded"  # /healthz says so too
        del driver.vpp.reconnect  # VPP is reachable again
        assert await session.ack(timeout=5) == 4
        assert {ACL.key, NODE_SNAT.key} <= held(driver).keys()
        assert agent.metrics.health()["status"] == "ok"
