"""A desired object that brings an interface into being (a pod's tap) orders and unblocks what
hangs on that interface; node-local removals do not wait for the controller's first snapshot."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from switchyard_agent.descriptors import BaseDescriptor
from switchyard_agent.drivers import host_interface_key
from switchyard_agent.drivers.recording import RecordingDataplane, recording_driver
from switchyard_agent.reconciler import Reconciler
from switchyard_contract.nodeconfig import ManagedInterface


@dataclass(frozen=True)
class FakeTap:
    name: str

    @property
    def key(self) -> str:
        return f"fake-tap/{self.name}"


class FakeTapDescriptor(BaseDescriptor[FakeTap]):
    """Creates the interface in the recording VPP, as the pod-tap descriptor does in VPP."""

    kind = "fake-tap"
    dataplane = "vpp"

    def __init__(self, vpp: RecordingDataplane, log: list[str]) -> None:
        self.vpp = vpp
        self.log = log

    def provides(self, value: FakeTap) -> Iterable[str]:
        return (host_interface_key(value.name),)

    def create(self, value: FakeTap) -> object:
        self.log.append(f"create {value.name}")
        self.vpp.plug(value.name)
        return None

    def delete(self, value: FakeTap, metadata: object) -> None:
        self.log.append(f"delete {value.name}")
        self.vpp.unplug(value.name)


def setup() -> tuple[Reconciler, list[str]]:
    driver = recording_driver()
    log: list[str] = []
    reconciler = Reconciler([*driver.descriptors, FakeTapDescriptor(driver.vpp, log)])
    reconciler.resync()
    return reconciler, log


def test_an_interface_made_in_the_same_apply_is_used_at_once() -> None:
    reconciler, log = setup()
    tap = FakeTap("tap1")
    managed = ManagedInterface("tap1", "pod")
    # Sorted keys would put interface/tap1 first: only the provider rule orders them.
    result = reconciler.apply_snapshot(1, {managed.key: managed, tap.key: tap})
    assert result.pending == () and result.failures == ()
    assert result.created == 2 and log == ["create tap1"]


def test_without_its_provider_the_interface_waits() -> None:
    reconciler, _ = setup()
    managed = ManagedInterface("tap1", "pod")
    result = reconciler.apply_snapshot(1, {managed.key: managed})
    assert result.pending == (managed.key,)


def test_local_removals_happen_before_the_first_snapshot() -> None:
    reconciler, log = setup()
    tap = FakeTap("tap1")
    reconciler.apply_delta(0, {tap.key: tap}, ())
    kept = reconciler.apply_delta(0, {}, (tap.key,))  # not primed: a resync never deletes
    assert kept.deleted == 0 and log == ["create tap1"]
    reconciler.apply_delta(0, {tap.key: tap}, ())
    gone = reconciler.apply_delta(0, {}, (tap.key,), remove_now=True)
    assert gone.deleted == 1 and log == ["create tap1", "delete tap1"]
