"""What a dataplane driver offers the agent: the protocols every driver (VPP, GoBGP, recording)
implements, and the facts it reports. They live with the drivers so that the factory and the
drivers need nothing from the agent itself."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from ..descriptors import Descriptor
from ..learned_routes import LocalStateSink


@dataclass(frozen=True, slots=True)
class InterfaceFacts:
    name: str
    addresses: tuple[str, ...] = ()
    up: bool = False


@dataclass(frozen=True, slots=True)
class DataplaneFacts:
    """What a driver reports for Hello's NodeFacts."""

    version: str = ""
    interfaces: tuple[InterfaceFacts, ...] = ()


@runtime_checkable
class DataplaneDriver(Protocol):
    """One dataplane connection (VPP, GoBGP) and the descriptors that go through it.

    `name` is the `dataplane` of its descriptors. Every method is called on the agent's
    worker thread only. `reconnect()` (re)establishes the connection: it is called once at
    start and, after a ConnectionLost, with backoff until it succeeds (raise on failure).
    `close()` at shutdown; it must leave the dataplane's state alone."""

    @property
    def name(self) -> str: ...

    def descriptors(self) -> Sequence[Descriptor[Any]]: ...

    def reconnect(self) -> None: ...

    def close(self) -> None: ...


@runtime_checkable
class Probes(Protocol):
    """A driver that can check its daemon is alive without changing anything."""

    def probe(self) -> bool:
        """True when the daemon restarted since the last probe (its state must be resynced);
        raises ConnectionLost when it cannot be reached."""
        ...


@runtime_checkable
class ReportsFacts(Protocol):
    """Optional: a driver that reports facts for Hello (versions, VPP's interfaces)."""

    def facts(self) -> DataplaneFacts: ...


@runtime_checkable
class Prefetches(Protocol):
    """Optional: a driver with a bulk path, told the values right before the reconciler
    applies them (the VPP driver pipelines its cnat calls). Errors are logged and ignored:
    the reconciler's own calls then report them per object."""

    def prefetch(
        self,
        upserts: Mapping[str, object],
        removals: Iterable[str] = (),
        *,
        snapshot: bool = False,
    ) -> int: ...


@runtime_checkable
class LocalStateSource(Protocol):
    """Optional: a driver that derives desired state from the node itself (the GoBGP driver:
    learned routes as `route/<prefix>` objects). Called once on the worker thread at start:
    it starts watching, publishes changes to `sink` from then on (from any thread), and
    returns the objects it holds right now. One local source per agent."""

    def start_local_state(self, sink: LocalStateSink) -> Mapping[str, object]: ...


class DriverUnavailable(Exception):
    """A driver that cannot work here (not installed, incompatible dataplane version): the
    agent refuses to start. Raised by a driver's factory, or by `reconnect()` at start."""
