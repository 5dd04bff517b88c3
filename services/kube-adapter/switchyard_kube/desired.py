"""The Switchyard objects a cluster's state calls for, computed from the informers' caches."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from . import endpoints, mapping
from .objects import Desired, Key

# Kubernetes kinds the adapter watches, in the order they are listed at start.
KUBE_KINDS = ("Namespace", "Node", "Service", "EndpointSlice", "Pod", "NetworkPolicy")

Cache = Mapping[str, Mapping[tuple[str, str], dict[str, Any]]]


def desired_state(cache: Cache, defaults: mapping.NodeDefaults) -> dict[Key, Desired]:
    """Every document the adapter wants in Switchyard, keyed by Switchyard key."""
    wanted: list[Desired | None] = []
    wanted += [mapping.namespace(o) for o in cache.get("Namespace", {}).values()]
    wanted += [mapping.node(o, defaults) for o in cache.get("Node", {}).values()]
    wanted += [mapping.pod(o) for o in cache.get("Pod", {}).values()]
    services = [mapping.service(o) for o in cache.get("Service", {}).values()]
    wanted += services
    wanted += [mapping.network_policy(o) for o in cache.get("NetworkPolicy", {}).values()]

    slices: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for slice_obj in cache.get("EndpointSlice", {}).values():
        owner = endpoints.service_of(slice_obj)
        if owner is not None:
            slices[owner].append(slice_obj)
    for svc in services:
        if svc is not None:
            ns, name = svc.key.namespace, svc.key.name
            wanted.append(endpoints.merge(ns, name, slices.get((ns, name), [])))
    return {d.key: d for d in wanted if d is not None}
