"""An in-memory dataplane whose descriptors record every call.

For tests and dry runs: it behaves like the real drivers where the reconciler can tell
(dataplane-assigned ids handed back on update/delete, dumps that drop what the dataplane cannot
report, foreign objects, interfaces that appear later, connection loss and restarts), and
faults can be injected on a key, a kind or an operation.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, cast

from switchyard_contract.nodeconfig import (
    Acl,
    AclBinding,
    BgpAnnouncement,
    BgpGlobal,
    BgpPeer,
    GreTunnel,
    LbGlobal,
    LbVip,
    ManagedInterface,
    NodeObject,
    Route,
    ServiceFrontend,
    SnatConfig,
)

from ..descriptors import (
    BaseDescriptor,
    ConnectionLost,
    Descriptor,
    Dumped,
    KeyedT,
    PermanentError,
    TransientError,
    kind_of,
)
from . import GOBGP, HOST_INTERFACE_KIND, VPP, HostInterface, dependencies_of

MUTATING_OPS = frozenset({"create", "update", "delete"})


@dataclass(frozen=True, slots=True)
class Call:
    kind: str
    op: str  # create | update | delete | dump
    key: str  # the kind itself for a dump


@dataclass(slots=True)
class _Fault:
    key: str | None
    kind: str | None
    op: str | None
    remaining: int | None  # None: until cleared
    transient: bool
    message: str

    def matches(self, call: Call) -> bool:
        return (
            (self.key is None or self.key == call.key)
            and (self.kind is None or self.kind == call.kind)
            and (self.op is None or self.op == call.op)
        )


@dataclass(slots=True)
class _Entry:
    value: object
    id: int
    owned: bool


@dataclass
class RecordingDataplane:
    """One dataplane's memory (objects by key) and its call log."""

    name: str
    objects: dict[str, _Entry] = field(default_factory=dict)
    host_interfaces: set[str] = field(default_factory=set)
    calls: list[Call] = field(default_factory=list)
    connected: bool = True
    # Called (from the plugging thread) when an interface comes or goes, like VPP's events.
    interface_watchers: list[Callable[[], None]] = field(default_factory=list)
    _faults: list[_Fault] = field(default_factory=list)
    _next_id: int = 1

    # -- fault injection
    def fail(
        self,
        *,
        key: str | None = None,
        kind: str | None = None,
        op: str | None = None,
        times: int | None = None,
        transient: bool | None = None,
        message: str = "injected failure",
    ) -> None:
        """Fail matching calls: `times` calls then succeed (transient by default), or every
        call until `clear_faults()` (permanent by default)."""
        is_transient = (times is not None) if transient is None else transient
        self._faults.append(_Fault(key, kind, op, times, is_transient, message))

    def clear_faults(self) -> None:
        self._faults.clear()

    def disconnect(self) -> None:
        """The socket drops: every call raises ConnectionLost until `restart()`/`reconnect()`."""
        self.connected = False

    def reconnect(self) -> None:
        self.connected = True

    def restart(self) -> None:
        """The daemon restarted: its state is gone (interfaces come back with it)."""
        self.objects.clear()
        self.connected = True

    # -- changes behind the agent's back
    def plug(self, interface: str) -> None:
        self.host_interfaces.add(interface)
        self._interfaces_changed()

    def unplug(self, interface: str) -> None:
        self.host_interfaces.discard(interface)
        self._interfaces_changed()

    def _interfaces_changed(self) -> None:
        for watcher in list(self.interface_watchers):
            watcher()

    def put_foreign(self, value: NodeObject) -> None:
        self.objects[value.key] = _Entry(value, self._new_id(), owned=False)

    def tamper(self, value: NodeObject) -> None:
        """Change an object in place (an operator with vppctl)."""
        self.objects[value.key].value = value

    def drop(self, key: str) -> None:
        del self.objects[key]

    # -- assertions
    def count(self, op: str | None = None, kind: str | None = None, key: str | None = None) -> int:
        return sum(
            1
            for c in self.calls
            if (op is None or c.op == op)
            and (kind is None or c.kind == kind)
            and (key is None or c.key == key)
        )

    def mutating_calls(self) -> list[Call]:
        return [c for c in self.calls if c.op in MUTATING_OPS]

    def reset_calls(self) -> None:
        self.calls.clear()

    def values(self) -> dict[str, object]:
        return {key: entry.value for key, entry in self.objects.items()}

    # -- used by the descriptors
    def invoke(self, kind: str, op: str, key: str) -> None:
        call = Call(kind, op, key)
        self.calls.append(call)
        if not self.connected:
            raise ConnectionLost(f"{self.name}: connection lost")
        for fault in self._faults:
            if not fault.matches(call) or fault.remaining == 0:
                continue
            if fault.remaining is not None:
                fault.remaining -= 1
            error = TransientError if fault.transient else PermanentError
            raise error(f"{fault.message} ({op} {key})")

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id - 1

    def store(self, key: str, value: object) -> int:
        entry = self.objects.get(key)
        if entry is not None and not entry.owned:
            raise PermanentError(f"{key} exists and belongs to someone else")
        new_id = self._new_id() if entry is None else entry.id
        self.objects[key] = _Entry(value, new_id, owned=True)
        return new_id

    def owned_entry(self, key: str, metadata: object) -> _Entry:
        entry = self.objects.get(key)
        if entry is None or not entry.owned:
            raise PermanentError(f"no such object {key}")
        if entry.id != metadata:
            raise PermanentError(f"stale id {metadata!r} for {key} (now {entry.id})")
        return entry


def _always(old: Any, new: Any) -> bool:
    return True


def _never(old: Any, new: Any) -> bool:
    return False


class RecordingDescriptor(BaseDescriptor[KeyedT]):
    def __init__(
        self,
        dataplane: RecordingDataplane,
        kind: str,
        *,
        can_update: Callable[[KeyedT, KeyedT], bool] = _always,
        reported: Callable[[KeyedT], KeyedT] | None = None,
    ) -> None:
        self.kind = kind
        self.dataplane = dataplane.name
        self._dp = dataplane
        self._can_update = can_update
        # What a dump can give back; equivalence then compares only that.
        self._reported = reported

    def equivalent(self, desired: KeyedT, actual: KeyedT) -> bool:
        if self._reported is None:
            return desired == actual
        return self._reported(desired) == self._reported(actual)

    def dependencies(self, value: KeyedT) -> Iterable[str]:
        return dependencies_of(cast(NodeObject, value))

    def can_update(self, old: KeyedT, new: KeyedT) -> bool:
        return self._can_update(old, new)

    def create(self, value: KeyedT) -> object:
        self._dp.invoke(self.kind, "create", value.key)
        if isinstance(value, ManagedInterface) and value.name not in self._dp.host_interfaces:
            raise PermanentError(f"no such interface {value.name}")
        return self._dp.store(value.key, value)

    def update(self, old: KeyedT, new: KeyedT, metadata: object) -> object:
        self._dp.invoke(self.kind, "update", new.key)
        entry = self._dp.owned_entry(new.key, metadata)
        entry.value = new
        return entry.id

    def delete(self, value: KeyedT, metadata: object) -> None:
        self._dp.invoke(self.kind, "delete", value.key)
        self._dp.owned_entry(value.key, metadata)
        del self._dp.objects[value.key]

    def dump(self) -> Iterable[Dumped[KeyedT]]:
        self._dp.invoke(self.kind, "dump", self.kind)
        items: list[Dumped[KeyedT]] = []
        for key, entry in self._dp.objects.items():
            if kind_of(key) == self.kind:
                value = cast(KeyedT, entry.value)
                if self._reported is not None:
                    value = self._reported(value)
                items.append(Dumped(value, entry.owned, entry.id))
        return items


class HostInterfaceDescriptor(BaseDescriptor[HostInterface]):
    """Read-only: reports the interfaces VPP has, so that objects on them can be applied."""

    kind = HOST_INTERFACE_KIND

    def __init__(self, dataplane: RecordingDataplane) -> None:
        self.dataplane = dataplane.name
        self._dp = dataplane

    def dump(self) -> Iterable[Dumped[HostInterface]]:
        self._dp.invoke(self.kind, "dump", self.kind)
        return [Dumped(HostInterface(n), owned=False) for n in sorted(self._dp.host_interfaces)]


# What the real dataplanes cannot report or change in place (see notes/vpp-cnat.md, gobgp.md).
def _frontend_reported(value: ServiceFrontend) -> ServiceFrontend:
    return dataclasses.replace(value, service="")  # cnat has no tag: the owner is agent-side


def _frontend_can_update(old: ServiceFrontend, new: ServiceFrontend) -> bool:
    return bool(old.affinity_timeout == new.affinity_timeout)  # flow hash: creation only


def _vip_reported(value: LbVip) -> LbVip:
    return dataclasses.replace(value, load_balancer="")


def _vip_can_update(old: LbVip, new: LbVip) -> bool:
    # Servers are added and removed in place; the VIP's own settings need del + add.
    return bool(
        (old.encap, old.dscp, old.new_flows_table_length)
        == (new.encap, new.dscp, new.new_flows_table_length)
    )


@dataclass
class RecordingDriver:
    vpp: RecordingDataplane
    gobgp: RecordingDataplane
    descriptors: list[Descriptor[Any]]

    def mutating_calls(self) -> list[Call]:
        return self.vpp.mutating_calls() + self.gobgp.mutating_calls()

    def count(self, op: str | None = None, kind: str | None = None, key: str | None = None) -> int:
        return self.vpp.count(op, kind, key) + self.gobgp.count(op, kind, key)

    def reset_calls(self) -> None:
        self.vpp.reset_calls()
        self.gobgp.reset_calls()


def recording_driver() -> RecordingDriver:
    """Descriptors for every NodeConfig kind over two in-memory dataplanes."""
    vpp = RecordingDataplane(VPP)
    bgp = RecordingDataplane(GOBGP)
    descriptors: list[Descriptor[Any]] = [
        RecordingDescriptor[ServiceFrontend](
            vpp,
            ServiceFrontend.KIND,
            can_update=_frontend_can_update,
            reported=_frontend_reported,
        ),
        RecordingDescriptor[ManagedInterface](vpp, ManagedInterface.KIND),
        RecordingDescriptor[SnatConfig](vpp, SnatConfig.KIND),
        RecordingDescriptor[LbGlobal](vpp, LbGlobal.KIND),
        RecordingDescriptor[LbVip](
            vpp, LbVip.KIND, can_update=_vip_can_update, reported=_vip_reported
        ),
        RecordingDescriptor[GreTunnel](vpp, GreTunnel.KIND, can_update=_never),
        RecordingDescriptor[Acl](vpp, Acl.KIND),
        RecordingDescriptor[AclBinding](vpp, AclBinding.KIND),
        RecordingDescriptor[Route](vpp, Route.KIND),
        HostInterfaceDescriptor(vpp),
        RecordingDescriptor[BgpGlobal](bgp, BgpGlobal.KIND, can_update=_never),
        RecordingDescriptor[BgpPeer](bgp, BgpPeer.KIND),
        RecordingDescriptor[BgpAnnouncement](bgp, BgpAnnouncement.KIND),
    ]
    return RecordingDriver(vpp, bgp, descriptors)
