"""The incremental compiler: intent changes in, per-node deltas out.

The engine feeds each part (CompilerPart protocol) the changes of its kinds, drains every
part once per batch and merges their per-node deltas into one NodeDelta per node.

Cluster-wide objects (e.g. a ClusterIP frontend with the Cluster traffic policy: identical on
every node) live once in a part's GLOBAL scope ("*"). The engine never copies them into
per-node state: node_config() overlays GLOBAL with the node's own scope, and a changed global
object is fanned out at drain time as one shared mapping referenced by every node's NodeDelta
(O(1) work per node, no per-node copy). Where a node-scoped object has the same key as a
global one, the node's object wins (a node-specific translation shadows a cluster-wide one).

Only registered Node objects get configs: parts may compile objects for unknown node names
(e.g. endpoints naming a node not yet created); a node that appears gets its full config as
its first delta, and a node that is deleted gets a delta removing everything it held.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Iterable, Mapping, MutableMapping, Sequence
from types import MappingProxyType
from typing import Any, TypeVar, cast

from switchyard_contract.nodeconfig import NodeConfig, NodeDelta, NodeObject

from ..resources.intent import IntentObject
from .core import CoreCompiler
from .emitter import GLOBAL
from .part import CompilerPart, IntentChange, PartDelta
from .problems import CompileError

_EMPTY: Mapping[str, NodeObject] = MappingProxyType({})
P = TypeVar("P")


def default_parts() -> list[CompilerPart]:
    parts: list[CompilerPart] = [CoreCompiler()]
    try:
        from .policy import PolicyCompiler
    except ImportError:  # the policy part is developed separately
        return parts
    parts.append(PolicyCompiler())
    return parts


def _has_global(part: CompilerPart) -> bool:
    return bool(getattr(part, "has_global_scope", False))


class Compiler:
    def __init__(self, parts: Sequence[CompilerPart] | None = None) -> None:
        self._parts = list(parts) if parts is not None else default_parts()
        self._global_parts = [p for p in self._parts if _has_global(p)]
        self._global_cache: Mapping[str, NodeObject] | None = None
        self._nodes: set[str] = set()

    @property
    def nodes(self) -> frozenset[str]:
        return frozenset(self._nodes)

    def part(self, cls: type[P]) -> P | None:
        """The part of this type, for reads of its own state (explain)."""
        return next((p for p in self._parts if isinstance(p, cls)), None)

    def apply(self, changes: Iterable[IntentChange]) -> dict[str, NodeDelta]:
        batch = list(changes)
        before = set(self._nodes)
        # What a node deleted in this batch held, taken before any part forgets it.
        held: dict[str, frozenset[str]] = {}
        for change in batch:
            name = change.ref.name
            if change.ref.kind == "Node" and change.new is None and name in before:
                held.setdefault(name, frozenset(self._objects(name)))
        for change in batch:
            if change.ref.kind == "Node":
                if change.new is None:
                    self._nodes.discard(change.ref.name)
                else:
                    self._nodes.add(change.ref.name)
            for part in self._parts:
                if change.ref.kind in part.kinds:
                    part.apply(change)
        drained = [part.drain() for part in self._parts]
        if any(GLOBAL in d for d in drained):
            self._global_cache = None
        return self._merge(before, held, drained)

    def _merge(
        self, before: set[str], held: dict[str, frozenset[str]], drained: list[dict[str, PartDelta]]
    ) -> dict[str, NodeDelta]:
        out: dict[str, NodeDelta] = {}
        for name in sorted(before - self._nodes):
            out[name] = NodeDelta(name, _EMPTY, held.get(name, frozenset()))
        for name in sorted(self._nodes - before):
            objects = self.node_config(name).objects
            if objects:
                out[name] = NodeDelta(name, objects, frozenset())
        g_upserts: dict[str, NodeObject] = {}
        g_removals: set[str] = set()
        for part_delta in drained:
            found = part_delta.get(GLOBAL)
            if found is not None:
                g_upserts.update(found.upserts)
                g_removals.update(found.removals)
        kept = before & self._nodes
        touched = set(kept) if (g_upserts or g_removals) else set()
        for part_delta in drained:
            touched.update(n for n in part_delta if n in kept)
        shared_upserts = MappingProxyType(dict(sorted(g_upserts.items())))
        shared_removals = frozenset(g_removals)
        # Nodes that need their own delta: changed themselves, or shadowing a changed shared
        # key. Found once per batch, so every other node costs O(1), not a check per key.
        own_nodes = {n for d in drained for n in d}
        shadowing = self._shadowing(set(g_upserts) | g_removals)
        for name in sorted(touched):
            if name not in own_nodes and name not in shadowing:
                out[name] = NodeDelta(name, shared_upserts, shared_removals)
                continue
            delta = self._node_delta(name, drained, g_upserts, g_removals)
            if delta is None:
                out[name] = NodeDelta(name, shared_upserts, shared_removals)
            elif not delta.is_empty():
                out[name] = delta
        return out

    def _node_delta(
        self,
        name: str,
        drained: list[dict[str, PartDelta]],
        g_upserts: dict[str, NodeObject],
        g_removals: set[str],
    ) -> NodeDelta | None:
        """None: exactly the global delta (the common case, shared without copying)."""
        own = [d[name] for d in drained if name in d]
        shadowed = [k for k in (*g_upserts, *g_removals) if self._node_scoped(name, k)]
        if not own and not shadowed:
            return None
        upserts = {k: v for k, v in g_upserts.items() if k not in shadowed}
        removals = {k for k in g_removals if k not in shadowed}
        for delta in own:
            upserts.update(delta.upserts)
            removals.difference_update(delta.upserts)
            for key in delta.removals:
                fallback = self._global_object(key)
                if fallback is None:
                    removals.add(key)
                    upserts.pop(key, None)
                else:
                    upserts[key] = fallback
        return NodeDelta(name, MappingProxyType(dict(sorted(upserts.items()))), frozenset(removals))

    def _shadowing(self, keys: set[str]) -> set[str]:
        """Nodes with a node-scoped object under one of these (shared) keys."""
        if not keys:
            return set()
        found: set[str] = set()
        for part in self._global_parts:
            scopes: Iterable[str] = getattr(part, "scopes", lambda: self._nodes)()
            for scope in scopes:
                objects = part.objects(scope)
                small, large = (keys, objects) if len(keys) < len(objects) else (objects, keys)
                if scope != GLOBAL and any(key in large for key in small):
                    found.add(scope)
        return found

    def _node_scoped(self, name: str, key: str) -> bool:
        return any(key in p.objects(name) for p in self._global_parts)

    def _global_object(self, key: str) -> NodeObject | None:
        for part in self._global_parts:
            found = part.objects(GLOBAL).get(key)
            if found is not None:
                return found
        return None

    def _objects(self, name: str) -> dict[str, NodeObject]:
        objects: dict[str, NodeObject] = dict(self._global_view())
        for part in self._parts:
            objects.update(part.objects(name))
        return objects

    def _global_view(self) -> Mapping[str, NodeObject]:
        """The cluster-wide objects as one frozen mapping, rebuilt once after a batch that
        changed them and shared by every node's config (not copied per node)."""
        if self._global_cache is None:
            merged: dict[str, NodeObject] = {}
            for part in self._global_parts:
                merged.update(part.objects(GLOBAL))
            self._global_cache = MappingProxyType(dict(sorted(merged.items())))
        return self._global_cache

    def node_config(self, node: str) -> NodeConfig:
        """The node's full config (empty for a node that is not registered): its own objects
        over the shared cluster-wide ones; O(own objects), whatever the cluster's size."""
        if node not in self._nodes:
            return NodeConfig(node, _EMPTY)
        own, shared = self.node_layers(node)
        # The shared layer is not copied: the ChainMap is only ever read (behind a proxy).
        layers = ChainMap(dict(own), cast("MutableMapping[str, NodeObject]", shared))
        return NodeConfig(node, MappingProxyType(layers))

    def node_layers(self, node: str) -> tuple[Mapping[str, NodeObject], Mapping[str, NodeObject]]:
        """(the node's own objects, the cluster-wide ones it shares with every node); an own
        object shadows a shared one with the same key."""
        if node not in self._nodes:
            return _EMPTY, _EMPTY
        own: dict[str, NodeObject] = {}
        for part in self._parts:
            own.update(part.objects(node))
        return MappingProxyType(dict(sorted(own.items()))), self._global_view()

    def errors(self) -> list[CompileError]:
        found = {e for part in self._parts for e in part.errors()}
        return sorted(found, key=lambda e: (str(e.ref), e.node, e.message))


def compile_full(objects: Iterable[IntentObject[Any]]) -> dict[str, NodeConfig]:
    """Compile a whole intent snapshot from scratch (same rules as the incremental path)."""
    compiler = Compiler()
    compiler.apply(IntentChange(obj.ref, obj) for obj in objects)
    return {name: compiler.node_config(name) for name in sorted(compiler.nodes)}
