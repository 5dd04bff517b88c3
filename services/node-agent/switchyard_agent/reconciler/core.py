"""Desired vs actual -> the minimal ordered set of descriptor calls.

Threading: synchronous, confined to ONE worker thread (the agent's asyncio stream calls it
through a single-thread executor). The drivers are blocking and vpp_papi's sync client is not
thread-safe; dependency order makes the work sequential anyway, and one thread gives a total
order of dataplane mutations without locks. Nothing here is thread-safe: never call a
Reconciler from two threads.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any

from ..descriptors import ConnectionLost, Descriptor, Dumped, kind_of
from .ordering import dependency_order
from .passes import ApplyObserver, CallOutcome, Pass, Suspended
from .result import ApplyResult, Failure
from .retry import RetryPolicy
from .state import Ledger, ObjectState, Record, Status


class Reconciler:
    def __init__(
        self,
        descriptors: Iterable[Descriptor[Any]],
        *,
        retry: RetryPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        observer: ApplyObserver | None = None,
    ) -> None:
        self._descriptors: dict[str, Descriptor[Any]] = {}
        for descriptor in descriptors:
            if descriptor.kind in self._descriptors:
                raise ValueError(f"two descriptors for kind {descriptor.kind!r}")
            self._descriptors[descriptor.kind] = descriptor
        self._retry = retry or RetryPolicy()
        self._clock = clock
        self._sleep = sleep
        self._observer = observer
        self._revision = 0
        self._desired: dict[str, object] = {}
        self._ledger = Ledger()  # believed present: owned, or foreign adopted because it matched
        self._foreign: dict[str, Dumped[Any]] = {}  # dumped, not ours: never mutated
        self._external: set[str] = set()  # announced by notify_available (e.g. a new interface)
        self._status: dict[str, Status] = {}
        self._suspended: set[str] = set()  # dataplanes whose connection dropped
        self._backlog: set[str] = set()  # keys skipped while their dataplane was suspended
        # Until a snapshot says what the whole node should hold, nothing is deleted: a resync
        # at start-up with the controller unreachable must not wipe a forwarding node.
        self._primed = False

    # ------------------------------------------------------------------ inputs

    def apply_snapshot(self, revision: int, desired: Mapping[str, object]) -> ApplyResult:
        """Replace the whole desired set. Unchanged, applied objects cost no call. The agent's
        last good config (persisted) is fed back through here at start-up."""
        dirty = set(self._desired) | set(desired) | set(self._ledger)
        removed = set(self._desired) - set(desired)
        for key in removed:
            del self._desired[key]
        for key, value in desired.items():
            self._set_desired(key, value)
        self._revision = revision
        self._primed = True
        return self._run(dirty)

    def apply_delta(
        self, revision: int, upserts: Mapping[str, object], removals: Iterable[str]
    ) -> ApplyResult:
        dirty = set(upserts)
        for key in removals:
            self._desired.pop(key, None)
            dirty.add(key)
        for key, value in upserts.items():
            self._set_desired(key, value)
        self._revision = revision
        return self._run(dirty)

    def resync(self, dataplane: str | None = None) -> ApplyResult:
        """Dump actual state (of one dataplane, or all) and converge: matching objects are kept
        without a call, drift is updated, missing objects created, owned leftovers deleted.
        Call it at start, after a reconnect and after a dataplane restart."""
        started = time.perf_counter()
        acc = Pass()
        chosen = [
            d for d in self._descriptors.values() if dataplane is None or d.dataplane == dataplane
        ]
        dumps: dict[str, list[Dumped[Any]]] = {}
        lost: set[str] = set()
        for descriptor in chosen:
            try:
                dumps[descriptor.kind] = list(descriptor.dump())
            except Exception as exc:
                # The kind keeps its previous knowledge; the result says the resync was partial.
                if isinstance(exc, ConnectionLost):
                    lost.add(descriptor.dataplane)
                retriable = descriptor.is_retriable(exc)
                failure = Failure(f"{descriptor.kind}/*", f"dump failed: {exc}", retriable)
                acc.dump_failures.append(failure)
                acc.new_failures.append(failure)
        for plane in {d.dataplane for d in chosen}:
            if plane in lost:
                self._suspended.add(plane)
            else:
                self._suspended.discard(plane)
        dirty: set[str] = set()
        for descriptor in chosen:
            items = dumps.get(descriptor.kind)
            if items is not None and descriptor.dataplane not in lost:
                dirty |= self._replace_actual(descriptor, items)
        return self._run(dirty, started=started, acc=acc)

    def notify_available(self, key: str) -> ApplyResult:
        """Something outside the desired set appeared (VPP reports a new pod interface):
        objects pending on it are applied now."""
        self._external.add(key)
        return self._run(set())

    def notify_unavailable(self, key: str) -> ApplyResult:
        """Something disappeared and took what hung on it (a deleted interface loses its ACL
        bindings and features): forget those without calls; they wait, pending, for it."""
        self._external.discard(key)
        self._foreign.pop(key, None)
        gone = self._ledger.transitive_users(key)
        if key in self._ledger:
            gone.add(key)
        for lost in gone:
            self._ledger.pop(lost)
            self._status.pop(lost, None)
        return self._run(gone)

    def retry_due(self) -> ApplyResult | None:
        """Retry transient failures whose backoff has elapsed; None when nothing was due."""
        now = self._clock()
        due = {
            key
            for key, status in self._status.items()
            if status.state is ObjectState.RETRYING
            and status.retry_at is not None
            and status.retry_at <= now
        }
        return self._run(due) if due else None

    def next_retry_at(self) -> float | None:
        """When `retry_due()` next has work (on the `clock` passed in), for the agent's timer."""
        times = [s.retry_at for s in self._status.values() if s.retry_at is not None]
        return min(times) if times else None

    # ------------------------------------------------------------------ introspection

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

    # ------------------------------------------------------------------ convergence

    def _set_desired(self, key: str, value: object) -> None:
        if self._desired.get(key) != value:
            self._status.pop(key, None)  # a new value earns a fresh start (attempts, backoff)
        self._desired[key] = value

    def _replace_actual(self, descriptor: Descriptor[Any], items: list[Dumped[Any]]) -> set[str]:
        kind = descriptor.kind
        dirty = set(self._ledger.keys_of_kind(kind))
        for key in dirty:
            self._ledger.pop(key)
        self._foreign = {k: v for k, v in self._foreign.items() if kind_of(k) != kind}
        # A dump is authoritative for its kind: stale announcements must not satisfy deps.
        self._external = {k for k in self._external if kind_of(k) != kind}
        for item in items:
            key = descriptor.key(item.value)
            if item.owned:
                deps = tuple(descriptor.dependencies(item.value))
                self._ledger.put(key, Record(item.value, item.metadata, True, deps))
            else:
                self._foreign[key] = item
            dirty.add(key)
        dirty.update(key for key in self._desired if kind_of(key) == kind)
        for key in dirty:
            self._status.pop(key, None)  # re-evaluated from the fresh dump right away
        return dirty

    def _run(
        self, dirty: set[str], *, started: float | None = None, acc: Pass | None = None
    ) -> ApplyResult:
        started = time.perf_counter() if started is None else started
        acc = acc or Pass()
        todo = dirty | self._backlog | self._pending_keys()
        self._backlog.clear()
        # Each extra pass needs progress (something applied or deleted), so this terminates;
        # the bound is a belt on top of the braces.
        for _ in range(len(self._desired) + len(self._ledger) + 2):
            acc.progressed = False
            self._pass(todo, acc)
            todo = self._pending_keys()
            if not acc.progressed or not todo:
                break
        result = self._result(acc)
        if self._observer is not None:
            duration = time.perf_counter() - started
            self._observer.on_apply(result, duration, self._ledger.owned_counts())
        return result

    def _pending_keys(self) -> set[str]:
        return {k for k, s in self._status.items() if s.state is ObjectState.PENDING}

    def _pass(self, todo: set[str], acc: Pass) -> None:
        upserts: list[str] = []
        deletes: list[str] = []
        for key in sorted(todo):
            self._classify(key, upserts, deletes, acc)
        # Creates and updates first, dependencies before dependants; deletes last, dependants
        # first, so a binding moves off an ACL before that ACL goes.
        order, cyclic = dependency_order(upserts, self._desired_deps)
        for key in cyclic:
            self._fail(key, f"dependency cycle through {key}", acc)
        for key in order:
            self._upsert(key, acc)
        order, cyclic = dependency_order(deletes, self._recorded_deps)
        for key in [*reversed(order), *cyclic]:
            self._remove(key, acc)

    def _classify(self, key: str, upserts: list[str], deletes: list[str], acc: Pass) -> None:
        descriptor = self._descriptors.get(kind_of(key))
        record = self._ledger.get(key)
        if key not in self._desired:
            if record is None:
                self._status.pop(key, None)
            elif not record.owned:  # adopted foreign object: let go of it, never delete it
                self._ledger.pop(key)
                self._foreign[key] = Dumped(record.value, False, record.metadata)
                self._status.pop(key, None)
            elif self._primed:
                deletes.append(key)
            return
        want = self._desired[key]
        if descriptor is None:
            self._fail(key, f"no descriptor for kind {kind_of(key)!r}", acc)
            return
        if descriptor.key(want) != key:
            self._fail(key, f"value has key {descriptor.key(want)!r}, sent as {key!r}", acc)
            return
        if record is not None:
            if descriptor.equivalent(want, record.value):
                self._mark_applied(key, acc)
            elif not record.owned:
                self._fail(key, "conflict: the dataplane holds a different foreign object", acc)
            else:
                upserts.append(key)
            return
        foreign = self._foreign.get(key)
        if foreign is None:
            upserts.append(key)
        elif descriptor.equivalent(want, foreign.value):
            # Already there exactly as wanted: use it, but it stays someone else's.
            del self._foreign[key]
            deps = tuple(descriptor.dependencies(foreign.value))
            self._ledger.put(key, Record(foreign.value, foreign.metadata, False, deps))
            self._mark_applied(key, acc)
        else:
            self._fail(key, "conflict: the dataplane holds a different foreign object", acc)

    def _upsert(self, key: str, acc: Pass) -> None:
        descriptor = self._descriptors[kind_of(key)]
        if descriptor.dataplane in self._suspended:
            self._park(key, descriptor)
            return
        missing = [dep for dep in self._desired_deps(key) if not self._available(dep)]
        if missing:
            # Not an error; an applied older version stays in place meanwhile.
            self._set(key, Status(ObjectState.PENDING, f"waiting for {', '.join(missing)}"))
            return
        want = self._desired[key]
        record = self._ledger.get(key)
        try:
            if record is None:
                self._create(key, descriptor, want, acc)
            elif descriptor.can_update(record.value, want):
                self._update(key, descriptor, record, want, acc)
            else:
                self._recreate(key, descriptor, want, acc)
        except Suspended:
            self._park(key, descriptor)

    def _create(self, key: str, descriptor: Descriptor[Any], want: object, acc: Pass) -> bool:
        outcome = self._call(key, descriptor, "create", lambda: descriptor.create(want))
        if outcome.failure is not None:
            self._fail_call(key, outcome, acc)
            return False
        deps = tuple(descriptor.dependencies(want))
        self._ledger.put(key, Record(want, outcome.metadata, True, deps))
        acc.created += 1
        self._mark_applied(key, acc)
        return True

    def _update(
        self, key: str, descriptor: Descriptor[Any], record: Record, want: object, acc: Pass
    ) -> None:
        def update() -> object:
            return descriptor.update(record.value, want, record.metadata)

        outcome = self._call(key, descriptor, "update", update)
        if outcome.failure is not None:
            self._fail_call(key, outcome, acc)  # the ledger keeps the previous actual object
            return
        deps = tuple(descriptor.dependencies(want))
        self._ledger.put(key, Record(want, outcome.metadata, True, deps))
        acc.updated += 1
        self._mark_applied(key, acc)

    def _recreate(self, key: str, descriptor: Descriptor[Any], want: object, acc: Pass) -> None:
        """Delete + create, taking down (and later re-creating) what is applied on top."""
        users = self._ledger.transitive_users(key)
        foreign = sorted(u for u in users if not self._owned(u))
        if foreign:
            self._fail(key, f"cannot recreate: used by foreign {', '.join(foreign)}", acc)
            return
        order, cyclic = dependency_order(users, self._recorded_deps)
        for user in [*reversed(order), *cyclic]:
            outcome = self._delete(user, acc)
            if outcome.failure is not None:
                message = f"cannot recreate: removing {user} failed: {outcome.failure.message}"
                failure = Failure(key, message, outcome.failure.retriable)
                self._fail_call(key, CallOutcome(failure=failure, attempts=outcome.attempts), acc)
                return
            if user in self._desired:
                self._set(user, Status(ObjectState.PENDING, f"waiting for {key} to be recreated"))
            else:
                self._status.pop(user, None)
        outcome = self._delete(key, acc)
        if outcome.failure is not None:
            self._fail_call(key, outcome, acc)
            return
        self._create(key, descriptor, want, acc)

    def _remove(self, key: str, acc: Pass) -> None:
        descriptor = self._descriptors[kind_of(key)]
        if descriptor.dataplane in self._suspended:
            self._park(key, descriptor)
            return
        users = self._ledger.users(key)
        if users:
            # Never pull an object from under one that still uses it (e.g. a binding whose
            # update failed still references this ACL): deleting waits until it moves off.
            message = f"deletion deferred: still used by {', '.join(sorted(users))}"
            self._set(key, Status(ObjectState.PENDING, message))
            return
        try:
            outcome = self._delete(key, acc)
        except Suspended:
            self._park(key, descriptor)
            return
        if outcome.failure is not None:
            self._fail_call(key, outcome, acc)
        else:
            self._status.pop(key, None)

    def _delete(self, key: str, acc: Pass) -> CallOutcome:
        descriptor = self._descriptors[kind_of(key)]
        record = self._ledger.get(key)
        assert record is not None and record.owned, key
        outcome = self._call(
            key, descriptor, "delete", lambda: descriptor.delete(record.value, record.metadata)
        )
        if outcome.failure is None:
            self._ledger.pop(key)
            acc.deleted += 1
            acc.progressed = True
        return outcome

    def _call(
        self, key: str, descriptor: Descriptor[Any], op: str, fn: Callable[[], object]
    ) -> CallOutcome:
        """Run one descriptor call with bounded inline retries of transient errors."""
        status = self._status.get(key)
        attempts = status.attempts if status and status.state is ObjectState.RETRYING else 0
        # A key already in backoff gets one attempt per retry: the wait was the backoff.
        tries = 1 if attempts else max(1, self._retry.inline_attempts)
        error: Exception | None = None
        retriable = False
        for attempt in range(tries):
            try:
                return CallOutcome(metadata=fn())
            except ConnectionLost as exc:
                self._suspended.add(descriptor.dataplane)
                raise Suspended(key) from exc
            except Exception as exc:
                error = exc
                attempts += 1
                retriable = descriptor.is_retriable(exc)
                if not retriable:
                    break
                if attempt + 1 < tries:
                    self._sleep(self._retry.delay(attempts))
        failure = Failure(key, f"{op} failed: {error}", retriable)
        return CallOutcome(failure=failure, attempts=attempts)

    # ------------------------------------------------------------------ small helpers

    def _available(self, dep: str) -> bool:
        if dep in self._external or dep in self._foreign:
            return True
        status = self._status.get(dep)
        return (
            dep in self._desired
            and dep in self._ledger
            and status is not None
            and status.state is ObjectState.APPLIED
        )

    def _owned(self, key: str) -> bool:
        record = self._ledger.get(key)
        return record is not None and record.owned

    def _desired_deps(self, key: str) -> tuple[str, ...]:
        return tuple(self._descriptors[kind_of(key)].dependencies(self._desired[key]))

    def _recorded_deps(self, key: str) -> tuple[str, ...]:
        record = self._ledger.get(key)
        return record.dependencies if record is not None else ()

    def _set(self, key: str, status: Status) -> None:
        self._status[key] = status

    def _mark_applied(self, key: str, acc: Pass) -> None:
        previous = self._status.get(key)
        if previous is None or previous.state is not ObjectState.APPLIED:
            acc.progressed = True
        self._status[key] = Status(ObjectState.APPLIED)

    def _park(self, key: str, descriptor: Descriptor[Any]) -> None:
        self._backlog.add(key)
        message = f"{descriptor.dataplane} disconnected: waiting for resync"
        self._set(key, Status(ObjectState.PENDING, message))

    def _fail(self, key: str, message: str, acc: Pass) -> None:
        """A permanent failure found without calling the dataplane (bad config)."""
        self._fail_call(key, CallOutcome(failure=Failure(key, message, False)), acc)

    def _fail_call(self, key: str, outcome: CallOutcome, acc: Pass) -> None:
        failure = outcome.failure
        assert failure is not None
        if failure.retriable:
            retry_at = self._clock() + self._retry.delay(max(1, outcome.attempts))
            status = Status(ObjectState.RETRYING, failure.message, True, outcome.attempts, retry_at)
        else:
            status = Status(ObjectState.FAILED, failure.message)
        self._status[key] = status
        acc.new_failures.append(failure)

    def _result(self, acc: Pass) -> ApplyResult:
        failed = (ObjectState.FAILED, ObjectState.RETRYING)
        failures = [
            Failure(key, s.message, s.retriable)
            for key, s in sorted(self._status.items())
            if s.state in failed
        ]
        failures += acc.dump_failures  # no per-key status, but the result must not look clean
        pending = sorted(k for k, s in self._status.items() if s.state is ObjectState.PENDING)
        return ApplyResult(
            revision=self._revision,
            failures=tuple(failures),
            pending=tuple(pending),
            created=acc.created,
            updated=acc.updated,
            deleted=acc.deleted,
            new_failures=tuple(acc.new_failures),
            suspended=tuple(sorted(self._suspended)),
        )
