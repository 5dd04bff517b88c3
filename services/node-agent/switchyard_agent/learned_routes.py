"""Desired state that comes from the node itself, merged with the controller's.

Some of what a node must hold is not sent by the controller: the routes GoBGP learns from its
peers must go into VPP's FIB (as `route/<prefix>` objects, all equal-cost next hops). A
*local source* (a driver implementing `drivers.protocols.LocalStateSource`, e.g. the
GoBGP driver's route watcher) publishes such objects through a `LocalStateSink`; the agent
merges them with the controller's configuration and applies the result through the same
reconciler, on its worker thread, as a delta.

Precedence: the controller wins. A key the controller's configuration holds (a static route
for the same prefix) is applied as the controller says and the local value waits; when the
controller's object goes, the local value is applied in its place, and the reverse. Local
objects are not persisted with the controller's configuration (`last-config.snapshot`) and
are not reported to the controller; a source re-publishes its whole state after a restart.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class LocalUpdate:
    """A change of a local source's objects. With `replace`, `upserts` is the source's whole
    state: every other key it published before is removed."""

    upserts: Mapping[str, object] = field(default_factory=dict)
    removals: frozenset[str] = frozenset()
    replace: bool = False

    def then(self, later: LocalUpdate) -> LocalUpdate:
        """This update followed by `later`, as one."""
        if later.replace:
            return later
        upserts = {k: v for k, v in self.upserts.items() if k not in later.removals}
        upserts.update(later.upserts)
        removals = (self.removals - later.upserts.keys()) | later.removals
        return LocalUpdate(upserts, frozenset(removals), self.replace)


class LocalStateSink(Protocol):
    """Where a local source reports. Both methods are thread-safe and never block."""

    def publish(self, update: LocalUpdate) -> None:
        """Queue a change; changes queued before the agent gets to them are coalesced."""
        ...

    def request_resync(self, dataplane: str) -> None:
        """The source saw its dataplane restart (state lost): reconnect and resync it."""
        ...


class LocalInbox:
    """Coalesces published updates between the source's thread and the agent's worker."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: LocalUpdate | None = None

    def push(self, update: LocalUpdate) -> bool:
        """Queue an update; True when the caller must schedule a drain (none was pending)."""
        with self._lock:
            first = self._pending is None
            self._pending = update if self._pending is None else self._pending.then(update)
            return first

    def drain(self) -> LocalUpdate | None:
        with self._lock:
            update, self._pending = self._pending, None
            return update


class MergedDesired:
    """The controller's desired objects and the local ones, merged (controller wins).

    Each method updates one side and returns what changes in the merged view, as the
    reconciler's inputs. Used on the agent's worker thread only."""

    def __init__(self) -> None:
        self.controller: dict[str, object] = {}
        self.local: dict[str, object] = {}

    def merged(self) -> dict[str, object]:
        merged = {k: v for k, v in self.local.items() if k not in self.controller}
        merged.update(self.controller)
        return merged

    def replace_controller(self, desired: Mapping[str, object]) -> dict[str, object]:
        """A controller snapshot: returns the whole merged desired set."""
        self.controller = dict(desired)
        return self.merged()

    def controller_delta(
        self, upserts: Mapping[str, object], removals: Iterable[str]
    ) -> tuple[dict[str, object], set[str]]:
        out_removals: set[str] = set()
        out_upserts = dict(upserts)
        for key in removals:
            self.controller.pop(key, None)
            if key in self.local:
                out_upserts[key] = self.local[key]  # the local value takes over
            else:
                out_removals.add(key)
        self.controller.update(upserts)
        return out_upserts, out_removals

    def local_update(self, update: LocalUpdate) -> tuple[dict[str, object], set[str]]:
        removals = set(update.removals)
        if update.replace:
            removals |= self.local.keys() - update.upserts.keys()
        out_removals: set[str] = set()
        out_upserts: dict[str, object] = {}
        for key in removals:
            if self.local.pop(key, None) is not None and key not in self.controller:
                out_removals.add(key)
        for key, value in update.upserts.items():
            if self.local.get(key) == value:
                continue
            self.local[key] = value
            if key not in self.controller:
                out_upserts[key] = value
        return out_upserts, out_removals
