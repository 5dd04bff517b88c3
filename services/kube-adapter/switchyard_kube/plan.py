"""Desired documents against what Switchyard holds: the creates, updates and deletes to make.

Only objects labelled switchyard.io/managed-by=kube-adapter are ever updated or deleted; a
desired object whose name is taken by someone else's is reported, never overwritten.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .objects import DIGEST_ANNOTATION, WRITE_ORDER, Desired, Key, is_managed, ready_of, spec_of


@dataclass(frozen=True)
class Write:
    verb: str  # create | update | delete | status (a Pod's Ready condition)
    key: Key
    desired: Desired | None = None  # None for deletes
    resource_version: str | None = None  # the stored object's, for If-Match


@dataclass
class Plan:
    writes: list[Write] = field(default_factory=list)
    # Desired objects whose name a document the adapter did not create already holds.
    not_owned: list[Desired] = field(default_factory=list)
    # Managed namespaces left in place because they still hold others' objects.
    kept: list[Key] = field(default_factory=list)

    def count(self, verb: str) -> int:
        return sum(1 for w in self.writes if w.verb == verb)

    def summary(self) -> dict[str, int]:
        return {
            "create": self.count("create"),
            "update": self.count("update"),
            "delete": self.count("delete"),
            "status": self.count("status"),
            "notOwned": len(self.not_owned),
            "kept": len(self.kept),
        }


def contains(stored: Any, wanted: Any) -> bool:
    """Whether stored holds every value wanted sets (the server may add defaults)."""
    if isinstance(wanted, dict):
        return isinstance(stored, dict) and all(
            k in stored and contains(stored[k], v) for k, v in wanted.items()
        )
    if isinstance(wanted, list):
        return (
            isinstance(stored, list)
            and len(stored) == len(wanted)
            and all(contains(s, w) for s, w in zip(stored, wanted, strict=True))
        )
    return bool(stored == wanted)


def unchanged(desired: Desired, stored: dict[str, Any]) -> bool:
    meta = stored.get("metadata") or {}
    if (meta.get("annotations") or {}).get(DIGEST_ANNOTATION) != desired.digest:
        return False
    body_meta = desired.body()["metadata"]
    return (
        contains(meta.get("labels") or {}, body_meta["labels"])
        and contains(meta.get("annotations") or {}, body_meta["annotations"])
        and contains(spec_of(desired.key.kind, stored), desired.spec)
    )


def _order(key: Key) -> tuple[int, Key]:
    return WRITE_ORDER.index(key.kind), key


def compute(desired: dict[Key, Desired], stored: dict[Key, dict[str, Any]]) -> Plan:
    plan = Plan()
    statuses: list[Write] = []
    for key in sorted(desired, key=_order):
        want = desired[key]
        have = stored.get(key)
        if key.kind == "EndpointSlice":
            service = stored.get(Key("Service", key.namespace, key.name))
            if service is not None and not is_managed(service):
                continue  # endpoints belong to their service's owner
        elif have is not None and not is_managed(have):
            plan.not_owned.append(want)
            continue
        if have is None:
            plan.writes.append(Write("create", key, want))
        elif not unchanged(want, have):
            version = (have.get("metadata") or {}).get("resourceVersion")
            plan.writes.append(Write("update", key, want, version))
        if want.ready is not None and (have is None or ready_of(have) != want.ready):
            statuses.append(Write("status", key, want))
    plan.writes += statuses  # after the spec writes: a status needs its Pod to exist
    for key in sorted(stored, key=_order, reverse=True):
        have = stored[key]
        if key in desired or not is_managed(have):
            continue
        if key.kind == "EndpointSlice" and Key("Service", key.namespace, key.name) not in desired:
            continue  # deleting the Service deletes its endpoints
        if key.kind == "Namespace" and _holds_foreign(stored, key.name):
            plan.kept.append(key)
            continue
        version = (have.get("metadata") or {}).get("resourceVersion")
        plan.writes.append(Write("delete", key, None, version))
    return plan


def _holds_foreign(stored: dict[Key, dict[str, Any]], namespace: str) -> bool:
    """Deleting a namespace deletes what it holds: never when that includes others' objects."""
    return any(
        key.namespace == namespace and key.kind != "EndpointSlice" and not is_managed(doc)
        for key, doc in stored.items()
    )
