"""Tests of the node agent: reconciler, recording driver, metrics and health endpoints."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from switchyard_agent.drivers import HOST_INTERFACE_KIND
from switchyard_agent.drivers.recording import RecordingDriver, recording_driver
from switchyard_agent.reconciler import Reconciler, RetryPolicy
from switchyard_contract.nodeconfig import NodeObject


@dataclass
class FakeClock:
    """Monotonic time under test control; `sleep` advances it instead of waiting."""

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@dataclass
class Rig:
    driver: RecordingDriver
    reconciler: Reconciler
    clock: FakeClock


def rig(driver: RecordingDriver | None = None, *, plugged: Iterable[str] = ()) -> Rig:
    driver = driver or recording_driver()
    for name in plugged:
        driver.vpp.plug(name)
    clock = FakeClock()
    reconciler = Reconciler(
        driver.descriptors,
        retry=RetryPolicy(inline_attempts=3, base_delay=0.05, max_delay=1.0),
        clock=clock,
        sleep=clock.sleep,
        awaited_kinds=(HOST_INTERFACE_KIND,),  # as the agent builds it
    )
    # As the agent starts: learn the dataplane (its interfaces) before the first snapshot.
    reconciler.resync()
    driver.reset_calls()
    return Rig(driver, reconciler, clock)


def config(*objects: NodeObject) -> dict[str, NodeObject]:
    return {obj.key: obj for obj in objects}
