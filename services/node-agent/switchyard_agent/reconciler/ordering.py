"""Dependency ordering (Kahn's algorithm, deterministic by key)."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Collection, Iterable


def dependency_order(
    keys: Collection[str], dependencies: Callable[[str], Iterable[str]]
) -> tuple[list[str], list[str]]:
    """Order `keys` so every key comes after those of its dependencies that are also in
    `keys` (dependencies outside the set are the caller's business). Returns the order and
    the keys left over because they sit on a dependency cycle."""
    members = set(keys)
    blockers: dict[str, set[str]] = {}
    dependents: dict[str, list[str]] = {key: [] for key in members}
    for key in members:
        inside = {dep for dep in dependencies(key) if dep in members and dep != key}
        blockers[key] = inside
        for dep in inside:
            dependents[dep].append(key)
    ready = [key for key, deps in blockers.items() if not deps]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        key = heapq.heappop(ready)
        order.append(key)
        for user in dependents[key]:
            blockers[user].discard(key)
            if not blockers[user]:
                heapq.heappush(ready, user)
    cyclic = sorted(key for key, deps in blockers.items() if deps)
    return order, cyclic
