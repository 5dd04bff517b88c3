"""The recording driver: call log, fault injection, lossy dumps, ids, connection loss."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from switchyard_agent.descriptors import ConnectionLost, Descriptor, PermanentError, TransientError
from switchyard_agent.drivers import HOST_INTERFACE_KIND, dependencies_of
from switchyard_agent.drivers.recording import Call, recording_driver
from switchyard_contract.nodeconfig import (
    OBJECT_TYPES,
    Acl,
    AclBinding,
    Backend,
    BgpPeer,
    LbVip,
    ManagedInterface,
    NextHop,
    Route,
    ServiceFrontend,
)

FRONTEND = ServiceFrontend(
    "10.96.0.10", "TCP", 80, "clusterIP", (Backend("10.1.0.5", 8080),), service="default/web"
)
ACL = Acl("a" * 8, ())


def descriptor(kind: str) -> Descriptor[Any]:
    return next(d for d in recording_driver().descriptors if d.kind == kind)


def test_every_nodeconfig_kind_has_a_descriptor_on_the_right_dataplane() -> None:
    driver = recording_driver()
    planes = {d.kind: d.dataplane for d in driver.descriptors}
    assert set(planes) == {t.KIND for t in OBJECT_TYPES} | {HOST_INTERFACE_KIND}
    assert {k for k, p in planes.items() if p == "gobgp"} == {"bgp-global", "bgp-peer", "bgp-path"}


def test_calls_are_recorded_and_ids_handed_back() -> None:
    driver = recording_driver()
    frontends = next(d for d in driver.descriptors if d.kind == "frontend")
    first = frontends.create(FRONTEND)
    moved = replace(FRONTEND, backends=(Backend("10.1.0.6", 8080),))
    assert frontends.update(FRONTEND, moved, first) == first
    with pytest.raises(PermanentError, match="stale id"):
        frontends.delete(moved, 999)
    frontends.delete(moved, first)

    key = FRONTEND.key
    assert driver.vpp.calls == [
        Call("frontend", "create", key),
        Call("frontend", "update", key),
        Call("frontend", "delete", key),
        Call("frontend", "delete", key),
    ]
    assert driver.count("delete") == 2 and driver.vpp.values() == {}


def test_dumps_leave_out_what_the_dataplane_cannot_report() -> None:
    driver = recording_driver()
    frontends = next(d for d in driver.descriptors if d.kind == "frontend")
    frontends.create(FRONTEND)
    [dumped] = list(frontends.dump())
    assert dumped.owned and dumped.value.service == ""
    assert frontends.equivalent(FRONTEND, dumped.value)
    assert not frontends.equivalent(replace(FRONTEND, port=81), dumped.value)


def test_transient_faults_clear_after_n_calls_permanent_ones_stay() -> None:
    driver = recording_driver()
    acls = next(d for d in driver.descriptors if d.kind == "acl")
    driver.vpp.fail(kind="acl", op="create", times=2)
    for _ in range(2):
        with pytest.raises(TransientError) as caught:
            acls.create(ACL)
        assert acls.is_retriable(caught.value)
    acls.create(ACL)

    driver.vpp.fail(key=ACL.key)
    for _ in range(3):
        with pytest.raises(PermanentError) as perm:
            acls.update(ACL, ACL, 1)
        assert not acls.is_retriable(perm.value)
    driver.vpp.clear_faults()
    acls.update(ACL, ACL, 1)
    assert not acls.is_retriable(RuntimeError("a bug"))


def test_disconnect_raises_connection_lost_and_restart_wipes_state() -> None:
    driver = recording_driver()
    acls = next(d for d in driver.descriptors if d.kind == "acl")
    acls.create(ACL)
    driver.vpp.disconnect()
    with pytest.raises(ConnectionLost):
        list(acls.dump())
    driver.vpp.restart()
    assert list(acls.dump()) == []


def test_foreign_objects_are_dumped_as_not_owned_and_cannot_be_overwritten() -> None:
    driver = recording_driver()
    acls = next(d for d in driver.descriptors if d.kind == "acl")
    driver.vpp.put_foreign(ACL)
    [dumped] = list(acls.dump())
    assert not dumped.owned
    with pytest.raises(PermanentError):
        acls.create(ACL)
    with pytest.raises(PermanentError):
        acls.delete(ACL, dumped.metadata)


def test_interfaces_must_exist_and_are_dumped_by_a_read_only_kind() -> None:
    driver = recording_driver()
    interfaces = next(d for d in driver.descriptors if d.kind == "interface")
    host = next(d for d in driver.descriptors if d.kind == HOST_INTERFACE_KIND)
    with pytest.raises(PermanentError, match="no such interface"):
        interfaces.create(ManagedInterface("memif1/0", "pod"))
    driver.vpp.plug("memif1/0")
    interfaces.create(ManagedInterface("memif1/0", "pod"))
    assert [(d.value.key, d.owned) for d in host.dump()] == [("vpp-interface/memif1/0", False)]


def test_dependency_rules() -> None:
    binding = AclBinding("memif1/0", ("x", "y"), ("x",))
    assert dependencies_of(binding) == ("interface/memif1/0", "acl/x", "acl/y")
    assert dependencies_of(ManagedInterface("eth0", "uplink")) == ("vpp-interface/eth0",)
    assert dependencies_of(BgpPeer("192.0.2.1", 65000)) == ("bgp-global",)
    vip = LbVip("203.0.113.10/32", "TCP", 80, "gre4", None, 1024, ())
    assert dependencies_of(vip) == ("lb-global",)
    route = Route("198.18.0.0/24", (NextHop("192.0.2.1", "eth0"), NextHop("192.0.2.2")))
    assert dependencies_of(route) == ("vpp-interface/eth0",)
    assert dependencies_of(ACL) == ()
    assert descriptor("gre").can_update(ACL, ACL) is False
