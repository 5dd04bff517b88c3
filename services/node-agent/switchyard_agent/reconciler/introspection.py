"""Read-only views of a reconciler's state, for the agent, its status and tests."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from ..descriptors import Descriptor
from .state import Ledger, Status


class Introspection:
    """The Reconciler's state as others may read it (the Reconciler sets these fields)."""

    _descriptors: dict[str, Descriptor[Any]]
    _revision: int
    _desired: dict[str, object]
    _ledger: Ledger
    _status: dict[str, Status]

    def descriptor(self, kind: str) -> Descriptor[Any] | None:
        return self._descriptors.get(kind)

    @property
    def revision(self) -> int:
        return self._revision

    @property
    def desired(self) -> Mapping[str, object]:
        return MappingProxyType(self._desired)

    def actual(self) -> dict[str, object]:
        """What the reconciler believes the dataplane holds (owned and adopted objects)."""
        actual: dict[str, object] = {}
        for key in self._ledger:
            record = self._ledger.get(key)
            if record is not None:
                actual[key] = record.value
        return actual

    def status(self, key: str) -> Status | None:
        return self._status.get(key)

    def owned_counts(self) -> dict[str, int]:
        return self._ledger.owned_counts()
