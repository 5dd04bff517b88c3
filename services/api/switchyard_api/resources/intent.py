"""Typed intent values as the compiler sees them: one stored object, validated."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from .common import StrictModel

SpecT = TypeVar("SpecT", bound=StrictModel)


@dataclass(frozen=True, slots=True)
class ObjectRef:
    kind: str
    namespace: str  # "" for cluster-scoped kinds
    name: str

    def __str__(self) -> str:
        scope = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind}/{scope}{self.name}"


@dataclass(frozen=True, slots=True)
class IntentObject(Generic[SpecT]):
    """A stored object: identity, labels and its validated spec. For EndpointSlice the name is
    the service's name."""

    kind: str
    namespace: str
    name: str
    spec: SpecT
    labels: Mapping[str, str] = field(default_factory=dict)
    resource_version: int = 0

    @property
    def ref(self) -> ObjectRef:
        return ObjectRef(self.kind, self.namespace, self.name)
