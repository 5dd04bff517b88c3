"""The interface every incremental part of the compiler implements.

The engine feeds each part the intent changes of the kinds it declares and collects, per node,
what changed. Parts are pure in-memory state machines: no I/O, deterministic output.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from switchyard_contract.nodeconfig import NodeObject

from ..resources.intent import IntentObject, ObjectRef
from .problems import CompileError


@dataclass(frozen=True, slots=True)
class IntentChange:
    """One stored object changed: `new` is None when it was deleted."""

    ref: ObjectRef
    new: IntentObject[Any] | None


@dataclass(slots=True)
class PartDelta:
    """Per node: objects created or replaced, and keys removed, since the last drain."""

    upserts: dict[str, NodeObject]
    removals: set[str]


class CompilerPart(Protocol):
    """A part may also set `has_global_scope = True`: its drain()/objects() then use the scope
    name emitter.GLOBAL ("*") for objects identical on every node, which the engine overlays
    under each node's own objects instead of copying them per node."""

    # Intent kinds ("Namespace", "Node", "Pod", "Service", "EndpointSlice", "NetworkPolicy",
    # "LoadBalancer", "BgpPeer") whose changes this part must see.
    kinds: frozenset[str]

    def apply(self, change: IntentChange) -> None:
        """Take one change into account; work is proportional to what it touches."""

    def drain(self) -> dict[str, PartDelta]:
        """Per node name, what changed since the previous drain (only nodes with changes).
        A key upserted with a value equal to its previous one must not be reported."""

    def objects(self, node: str) -> Mapping[str, NodeObject]:
        """This part's full current objects for a node."""

    def errors(self) -> list[CompileError]:
        """Current compile errors of this part."""
