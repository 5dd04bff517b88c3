"""Keyed output store shared by the core compiler units: who emitted what, where, and what
changed since the last drain.

Every recompute unit ("owner") replaces its whole output at once with `set_owner`; the store
diffs it against the owner's previous output, so a unit costs only its own size. Outputs live
in scopes: a node name, or GLOBAL for objects identical on every node (emitted once, fanned out
by the engine). When several owners emit the same (scope, key):
- equal objects: shared, no conflict (e.g. one GRE tunnel used by two load balancers);
- BGP announcements: merged (union of communities);
- otherwise the smallest owner wins and every other owner gets a CompileError.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Final

from switchyard_contract.nodeconfig import BgpAnnouncement, NodeObject

from ..resources.intent import ObjectRef
from .part import PartDelta
from .problems import CompileError

GLOBAL: Final = "*"  # not a DNS-1123 label, so never a node name

# (unit kind, namespace, name, node): orderable, and names the intent object it compiles.
Owner = tuple[str, str, str, str]
Slot = tuple[str, str]  # (scope, key)

_UNIT_KINDS: Final = {
    "fe": "Service",
    "np": "Service",
    "bgpsvc": "Service",
    "lb": "LoadBalancer",
    "podif": "Pod",
}


def owner_ref(owner: Owner) -> ObjectRef:
    return ObjectRef(_UNIT_KINDS.get(owner[0], "Node"), owner[1], owner[2])


class Output:
    """What one unit computed: objects by slot, and its own compile errors."""

    __slots__ = ("errors", "items")

    def __init__(self) -> None:
        self.items: dict[Slot, NodeObject] = {}
        self.errors: list[CompileError] = []

    def put(self, scope: str, obj: NodeObject) -> None:
        self.items[(scope, obj.key)] = obj

    def error(self, ref: ObjectRef, message: str, node: str = "") -> None:
        self.errors.append(CompileError(ref, message, node))


def _merge(claims: Mapping[Owner, NodeObject]) -> tuple[NodeObject, list[Owner]]:
    """Visible object of a shared slot, and the owners that lost a conflict."""
    ordered = sorted(claims.items())
    first = ordered[0][1]
    if isinstance(first, BgpAnnouncement):
        communities: set[str] = set()
        for _, obj in ordered:
            if isinstance(obj, BgpAnnouncement) and obj.next_hop == first.next_hop:
                communities.update(obj.communities)
        return replace(first, communities=tuple(sorted(communities))), []
    return first, [owner for owner, obj in ordered[1:] if obj != first]


_ABSENT: Final = object()


class Emitter:
    def __init__(self) -> None:
        self._by_owner: dict[Owner, dict[Slot, NodeObject]] = {}
        self._errors: dict[Owner, tuple[CompileError, ...]] = {}
        self._claims: dict[Slot, dict[Owner, NodeObject]] = {}
        self._visible: dict[str, dict[str, NodeObject]] = {}
        self._conflicts: dict[Slot, list[Owner]] = {}
        # Visible value of each slot before its first change since the last drain.
        self._touched: dict[str, dict[str, object]] = {}

    def set_owner(self, owner: Owner, output: Output) -> None:
        new = output.items
        old = self._by_owner.get(owner, {})
        changed: list[Slot] = []
        for slot in old.keys() - new.keys():
            claims = self._claims[slot]
            del claims[owner]
            changed.append(slot)
        for slot, obj in new.items():
            previous = old.get(slot)
            if previous is obj or previous == obj:
                continue
            self._claims.setdefault(slot, {})[owner] = obj
            changed.append(slot)
        if new:
            self._by_owner[owner] = new
        else:
            self._by_owner.pop(owner, None)
        if output.errors:
            self._errors[owner] = tuple(output.errors)
        else:
            self._errors.pop(owner, None)
        for slot in changed:
            self._refresh(slot)

    def _refresh(self, slot: Slot) -> None:
        scope, key = slot
        visible = self._visible.setdefault(scope, {})
        touched = self._touched.setdefault(scope, {})
        if key not in touched:
            touched[key] = visible.get(key, _ABSENT)
        claims = self._claims[slot]
        self._conflicts.pop(slot, None)
        if not claims:
            del self._claims[slot]
            visible.pop(key, None)
        elif len(claims) == 1:
            (visible[key],) = claims.values()
        else:
            visible[key], losers = _merge(claims)
            if losers:
                self._conflicts[slot] = losers

    def objects(self, scope: str) -> Mapping[str, NodeObject]:
        return self._visible.get(scope, {})

    def scopes(self) -> Iterable[str]:
        return self._visible.keys()

    def drain(self) -> dict[str, PartDelta]:
        out: dict[str, PartDelta] = {}
        for scope, touched in self._touched.items():
            visible = self._visible.get(scope, {})
            delta = PartDelta({}, set())
            for key, before in touched.items():
                now = visible.get(key, _ABSENT)
                if now is before or now == before:
                    continue
                if now is _ABSENT:
                    delta.removals.add(key)
                else:
                    delta.upserts[key] = now  # type: ignore[assignment]
            if delta.upserts or delta.removals:
                out[scope] = delta
        self._touched = {}
        return out

    def errors(self) -> list[CompileError]:
        found = [e for errors in self._errors.values() for e in errors]
        for (scope, key), losers in self._conflicts.items():
            node = "" if scope == GLOBAL else scope
            winner = min(self._claims[(scope, key)])
            for loser in losers:
                found.append(
                    CompileError(
                        owner_ref(loser),
                        f"{key} conflicts with {owner_ref(winner)}, which takes precedence",
                        node,
                    )
                )
        return found
