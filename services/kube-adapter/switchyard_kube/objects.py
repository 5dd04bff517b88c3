"""What the adapter writes: Switchyard object keys, their REST paths and the ownership marks."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

API_VERSION = "switchyard.io/v1"
MANAGED_BY_LABEL = "switchyard.io/managed-by"
MANAGED_BY_VALUE = "kube-adapter"
MANAGED_SELECTOR = f"{MANAGED_BY_LABEL}={MANAGED_BY_VALUE}"
# Digest of the document the adapter last wrote: unchanged digest + unchanged fields = no write,
# whatever defaults or normalization the server applied to what it stored.
DIGEST_ANNOTATION = "switchyard.io/kube-adapter-digest"
# Where the object came from, for people reading Switchyard (not used for decisions).
SOURCE_ANNOTATION = "switchyard.io/kube-source"

# Switchyard kinds the adapter writes, in the order creates and updates are applied
# (a namespace before what it holds, a service before its endpoints). Deletes run reversed.
WRITE_ORDER = ("Namespace", "Node", "Service", "EndpointSlice", "Pod", "NetworkPolicy")
# EndpointSlice keeps Kubernetes' shape: its fields sit beside metadata, not under spec.
FLAT_KINDS = frozenset({"EndpointSlice"})
FLAT_FIELDS = ("addressType", "endpoints", "ports")
COLLECTIONS = {
    "Namespace": "namespaces",
    "Node": "nodes",
    "Pod": "pods",
    "Service": "services",
    "NetworkPolicy": "network-policies",
}


@dataclass(frozen=True, order=True)
class Key:
    """One Switchyard object: kind, namespace ("" for cluster-scoped kinds) and name."""

    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.kind} {where}"

    @property
    def status_path(self) -> str:
        return f"{self.path}/status"

    @property
    def path(self) -> str:
        if self.kind == "EndpointSlice":
            return f"/v1/namespaces/{self.namespace}/services/{self.name}/endpoints"
        collection = COLLECTIONS[self.kind]
        if self.namespace:
            return f"/v1/namespaces/{self.namespace}/{collection}/{self.name}"
        return f"/v1/{collection}/{self.name}"


@dataclass(frozen=True)
class Desired:
    """A document the adapter wants Switchyard to hold, and the Kubernetes object behind it."""

    key: Key
    labels: dict[str, str]
    spec: dict[str, Any]
    source: dict[str, Any]  # the Kubernetes object (kind, apiVersion, metadata) for Events
    annotations: dict[str, str]
    # Pods: True/False for the Ready condition, written through the status subresource.
    ready: bool | None = None

    @property
    def digest(self) -> str:
        canonical = json.dumps(
            {"labels": self.labels, "spec": self.spec, "annotations": self.annotations},
            sort_keys=True,
            separators=(",", ":"),
        )
        return hashlib.sha256(canonical.encode()).hexdigest()[:32]

    def body(self) -> dict[str, Any]:
        """The request body of a PUT."""
        labels = dict(self.labels)
        labels[MANAGED_BY_LABEL] = MANAGED_BY_VALUE
        annotations = dict(self.annotations)
        annotations[DIGEST_ANNOTATION] = self.digest
        metadata: dict[str, Any] = {"name": self.key.name, "labels": labels}
        metadata["annotations"] = annotations
        if self.key.namespace:
            metadata["namespace"] = self.key.namespace
        document: dict[str, Any] = {
            "apiVersion": API_VERSION,
            "kind": self.key.kind,
            "metadata": metadata,
        }
        if self.key.kind in FLAT_KINDS:
            document.update(self.spec)
        else:
            document["spec"] = self.spec
        return document


def is_managed(document: dict[str, Any]) -> bool:
    labels = (document.get("metadata") or {}).get("labels") or {}
    return bool(labels.get(MANAGED_BY_LABEL) == MANAGED_BY_VALUE)


def ready_of(document: dict[str, Any]) -> bool | None:
    """A stored Pod's Ready condition: True, False, or None when none is reported."""
    for condition in (document.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return bool(condition.get("status") == "True")
    return None


def spec_of(kind: str, document: dict[str, Any]) -> dict[str, Any]:
    if kind in FLAT_KINDS:
        return {field: document[field] for field in FLAT_FIELDS if field in document}
    spec: dict[str, Any] = document.get("spec") or {}
    return spec
