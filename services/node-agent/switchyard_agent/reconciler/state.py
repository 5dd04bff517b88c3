"""The reconciler's bookkeeping: what it believes is in the dataplane, and per-key status."""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass

from ..descriptors import kind_of


class ObjectState(enum.Enum):
    APPLIED = "applied"
    PENDING = "pending"  # waiting for a dependency, a deferred deletion or a reconnect
    # The dataplane refused it: retried after a long, bounded backoff (the cause may go away:
    # a missing ACL, a full table), at once when the value changes, and on every resync.
    # Errors found without calling the dataplane (bad config) wait for a new value.
    FAILED = "failed"
    RETRYING = "retrying"  # transient error: retried by `retry_due()` after a short backoff


@dataclass(slots=True)
class Status:
    state: ObjectState
    message: str = ""
    retriable: bool = False
    attempts: int = 0  # consecutive failed attempts, drives the backoff
    retry_at: float | None = None
    waiting_for: tuple[str, ...] = ()  # PENDING on dependencies: the ones not available


@dataclass(frozen=True, slots=True)
class Record:
    """An object believed present in the dataplane: last applied (or dumped) value."""

    value: object
    metadata: object
    owned: bool  # False: adopted foreign object that matched desired; never mutated
    dependencies: tuple[str, ...]


class Ledger:
    """Actual state with a reverse dependency index, so "who uses X?" is cheap when X must
    be deleted or recreated."""

    def __init__(self) -> None:
        self._records: dict[str, Record] = {}
        self._users: dict[str, set[str]] = {}

    def __contains__(self, key: object) -> bool:
        return key in self._records

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._records))

    def __len__(self) -> int:
        return len(self._records)

    def get(self, key: str) -> Record | None:
        return self._records.get(key)

    def put(self, key: str, record: Record) -> None:
        self.pop(key)
        self._records[key] = record
        for dep in record.dependencies:
            self._users.setdefault(dep, set()).add(key)

    def pop(self, key: str) -> Record | None:
        record = self._records.pop(key, None)
        if record is not None:
            for dep in record.dependencies:
                users = self._users.get(dep)
                if users is not None:
                    users.discard(key)
                    if not users:
                        del self._users[dep]
        return record

    def users(self, key: str) -> set[str]:
        return set(self._users.get(key, ()))

    def transitive_users(self, key: str) -> set[str]:
        found: set[str] = set()
        frontier = [key]
        while frontier:
            for user in self._users.get(frontier.pop(), ()):
                if user not in found:
                    found.add(user)
                    frontier.append(user)
        return found

    def keys_of_kind(self, kind: str) -> list[str]:
        return [key for key in self._records if kind_of(key) == kind]

    def owned_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for key, record in self._records.items():
            if record.owned:
                counts[kind_of(key)] = counts.get(kind_of(key), 0) + 1
        return counts
