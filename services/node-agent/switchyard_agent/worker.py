"""The agent's worker: everything that touches the reconciler, a driver or the state directory.

Every method here runs on the agent's ONE worker thread (agent.py submits them as jobs), so they
are totally ordered. After each change the worker publishes a `WorkerView`, an immutable
summary that the event loop reads without locking.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from switchyard.v1 import distribution_pb2 as dpb
from switchyard_contract.nodeconfig import NodeObject

from .attachments.service import AttachmentService
from .descriptors import ConnectionLost
from .drivers import HOST_INTERFACE_KIND
from .drivers.protocols import (
    DataplaneDriver,
    DriverUnavailable,
    LocalStateSource,
    Prefetches,
    Probes,
    ReportsFacts,
    WatchesInterfaces,
)
from .learned_routes import LocalInbox, LocalStateSink, LocalUpdate, MergedDesired
from .metrics import AgentMetrics
from .persistence import ConfigStore
from .reconciler import ApplyResult, Reconciler
from .sink import MAX_STATUS_KEYS, ApplyOutcome, decode_objects

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class WorkerView:
    """What the worker last published; read by the event loop."""

    revision: int | None = None  # the configuration held (applied or persisted)
    result: ApplyResult | None = None  # the last reconciler call's whole-node view
    next_retry_at: float | None = None
    persist_error: str | None = None
    # Objects of the held configuration that did not decode: key -> message.
    undecoded: Mapping[str, str] = field(default_factory=dict)

    def errors(self) -> dict[str, str]:
        """Every error in effect: objects that did not decode, dataplane failures, then the
        objects that are not applied (e.g. waiting for a disconnected dataplane)."""
        errors = dict(self.undecoded)
        if self.result is not None:
            for failure in (*self.result.failures, *self.result.not_applied):
                errors.setdefault(failure.key, failure.message)
        return errors

    def message(self) -> str:
        """What is wrong beyond single objects: dataplanes the node cannot reach."""
        suspended = self.result.suspended if self.result is not None else ()
        if not suspended:
            return ""
        return f"dataplane {', '.join(suspended)} disconnected: the configuration is not applied"

    def converged(self, revision: int) -> bool:
        return self.revision == revision and not self.errors() and not self.message()


class Worker:
    """The reconciler, the drivers and the persisted configuration of one node."""

    def __init__(
        self,
        node: str,
        drivers: Sequence[DataplaneDriver],
        reconciler: Reconciler,
        store: ConfigStore,
        metrics: AgentMetrics,
    ) -> None:
        self.node = node
        self.drivers = list(drivers)
        self._by_name = {driver.name: driver for driver in self.drivers}
        self.reconciler = reconciler
        self.store = store
        self.metrics = metrics
        self.desired = MergedDesired()  # the controller's objects + local ones
        self.inbox = LocalInbox()  # local updates on their way to the worker (any thread)
        self.view = WorkerView()
        self._revision: int | None = None
        self._persist_error: str | None = None
        self._undecoded: dict[str, str] = {}
        self._interfaces: dict[str, dict[str, object]] = {}  # driver -> last interface dump
        self.attachments: AttachmentService | None = None  # set when CNI is served

    def publish_result(self, result: ApplyResult | None) -> None:
        self._publish(result)

    def _publish(self, result: ApplyResult | None = None) -> None:
        self.view = WorkerView(
            revision=self._revision,
            result=result if result is not None else self.view.result,
            next_retry_at=self.reconciler.next_retry_at(),
            persist_error=self._persist_error,
            undecoded=MappingProxyType(dict(self._undecoded)),
        )

    # ------------------------------------------------------------------ start and stop

    def start(
        self, sink: LocalStateSink, interfaces_changed: Callable[[], None] | None = None
    ) -> None:
        """Fail static: connect, dump, start local sources, apply the persisted revision.
        `interfaces_changed` is called (any thread) when a dataplane reports interface events."""
        if interfaces_changed is not None:
            self.watch_interfaces(interfaces_changed)
        for driver in self.drivers:
            try:
                driver.reconnect()
            except DriverUnavailable:
                raise
            except Exception as exc:
                log.warning("%s: not connected (%s); retrying in the background", driver.name, exc)
        self._publish(self.reconciler.resync())
        self._start_local_sources(sink)
        if self.attachments is not None:
            self.attachments.restore()
        try:
            persisted = self.store.load()
        except OSError as exc:
            log.error("cannot read the persisted configuration in %s: %s", self.store.path, exc)
            persisted = None
        if persisted is None:
            log.info("no persisted configuration: waiting for the controller")
            return
        if persisted.node != self.node:
            log.warning(
                "ignoring the persisted configuration of node %r (this is %r)",
                persisted.node,
                self.node,
            )
            return
        merged = self.desired.replace_controller(persisted.objects)
        result = self.reconciler.apply_snapshot(persisted.revision, merged)
        self._revision = persisted.revision
        self._publish(result)
        log.info(
            "fail static: applied the persisted revision %d (%d objects; %d created, "
            "%d updated, %d deleted, %d failed)",
            persisted.revision,
            len(persisted.objects),
            result.created,
            result.updated,
            result.deleted,
            len(result.failures),
        )

    def _start_local_sources(self, sink: LocalStateSink) -> None:
        """Start the local sources; what they hold now joins the desired state before the
        persisted configuration is applied, so a restart does not drop learned routes."""
        for driver in self.drivers:
            if not isinstance(driver, LocalStateSource):
                continue
            try:
                initial = driver.start_local_state(sink)
            except Exception as exc:
                log.error("%s: cannot start its local state source: %s", driver.name, exc)
                continue
            upserts, removals = self.desired.local_update(LocalUpdate(initial, replace=True))
            if upserts or removals:
                result = self.reconciler.apply_delta(self.reconciler.revision, upserts, removals)
                self._publish(result)

    def close(self) -> None:
        for driver in self.drivers:
            try:
                driver.close()
            except Exception as exc:
                log.warning("%s: close failed: %s", driver.name, exc)

    # ------------------------------------------------------------------ the controller's config

    def facts(self) -> dpb.NodeFacts:
        facts = dpb.NodeFacts()
        for driver in self.drivers:
            if not isinstance(driver, ReportsFacts):
                continue
            try:
                reported = driver.facts()
            except Exception as exc:
                log.debug("%s: no facts: %s", driver.name, exc)
                continue
            if driver.name == "vpp":
                facts.vpp_version = reported.version
            elif driver.name == "gobgp":
                facts.gobgp_version = reported.version
            for iface in reported.interfaces:
                facts.interfaces.add(name=iface.name, addresses=iface.addresses, up=iface.up)
        return facts

    def apply_snapshot(self, chunks: Sequence[dpb.Snapshot]) -> ApplyOutcome:
        revision = chunks[-1].revision
        decoded: dict[str, NodeObject] = {}
        errors: dict[str, str] = {}
        for chunk in chunks:
            decode_objects(chunk.objects, decoded, errors)
        desired: dict[str, object] = dict(decoded)
        previous = self.desired.controller
        for key in errors:
            # An object that does not decode keeps its last good state on the node.
            if key not in desired and key in previous:
                desired[key] = previous[key]
        merged = self.desired.replace_controller(desired)
        self._prefetch(merged, (), snapshot=True)
        result = self.reconciler.apply_snapshot(revision, merged)
        self._undecoded = errors
        return self._applied(revision, result)

    def apply_delta(self, chunks: Sequence[dpb.Delta]) -> ApplyOutcome:
        revision = chunks[-1].to_revision
        upserts: dict[str, NodeObject] = {}
        errors: dict[str, str] = {}
        removals: set[str] = set()
        for chunk in chunks:
            decode_objects(chunk.upserts, upserts, errors)
            removals.update(chunk.removals)
        for key in sorted(removals & upserts.keys()):
            errors.setdefault(key, "both upserted and removed")
            del upserts[key]
        removals -= errors.keys()  # keep the last good state of a key in error
        merged_upserts, merged_removals = self.desired.controller_delta(upserts, removals)
        self._prefetch(merged_upserts, merged_removals, snapshot=False)
        result = self.reconciler.apply_delta(revision, merged_upserts, merged_removals)
        for key in (*upserts, *removals):
            self._undecoded.pop(key, None)  # a good value (or removal) replaces a bad one
        self._undecoded.update(errors)
        return self._applied(revision, result)

    def _prefetch(
        self, upserts: Mapping[str, object], removals: Iterable[str], *, snapshot: bool
    ) -> None:
        suspended = self.view.result.suspended if self.view.result is not None else ()
        for driver in self.drivers:
            if driver.name in suspended or not isinstance(driver, Prefetches):
                continue
            try:
                driver.prefetch(upserts, list(removals), snapshot=snapshot)
            except Exception as exc:
                log.debug("%s: prefetch failed: %s", driver.name, exc)

    def _applied(self, revision: int, result: ApplyResult) -> ApplyOutcome:
        self._revision = revision
        try:
            self.store.save(self.node, revision, self.desired.controller)
            self._persist_error = None
        except Exception as exc:  # a full disk must not stop the node from applying
            log.error("cannot save revision %d to %s: %s", revision, self.store.path, exc)
            self._persist_error = str(exc)
        self._publish(result)
        errors = sorted(self.view.errors().items())
        # The Nack says how many are not listed (session.nack_for): keep the count exact.
        return ApplyOutcome(
            revision, tuple(errors[:MAX_STATUS_KEYS]), self.view.message(), len(errors)
        )

    # ------------------------------------------------------------------ local state, retries

    def apply_local(self) -> None:
        update = self.inbox.drain()
        if update is None:
            return
        upserts, removals = self.desired.local_update(update)
        if not upserts and not removals:
            return
        self._prefetch(upserts, removals, snapshot=False)
        result = self.reconciler.apply_delta(self.reconciler.revision, upserts, removals)
        self._publish(result)

    def retry(self) -> None:
        self._publish(self.reconciler.retry_due())

    # ------------------------------------------------------------------ dataplane health

    def probe(self, skip: Iterable[str]) -> list[str]:
        """Names of the dataplanes (other than `skip`) that need a reconnect and resync."""
        skipped = set(skip)
        lost = []
        for driver in self.drivers:
            if not isinstance(driver, Probes) or driver.name in skipped:
                continue
            try:
                restarted = driver.probe()
            except Exception as exc:
                log.warning("%s: probe failed: %s", driver.name, exc)
                lost.append(driver.name)
                continue
            if restarted:
                log.warning("%s restarted: resyncing", driver.name)
                lost.append(driver.name)
        for name in lost:  # no calls into it, and no claim of convergence, until resynced
            self._publish(self.reconciler.suspend(name))
        # The events may be missed (an interface created down sends none): dump as well.
        self.refresh_interfaces(skip=(*skipped, *lost))
        return lost

    # ------------------------------------------------------------------ interfaces

    def watch_interfaces(self, changed: Callable[[], None]) -> None:
        for driver in self.drivers:
            if isinstance(driver, WatchesInterfaces):
                driver.watch_interfaces(changed)

    def refresh_interfaces(self, skip: Iterable[str] = ()) -> None:
        """Dump the interfaces of the dataplanes that gain them from outside; objects waiting
        for a new one are applied now, those on a gone one wait for it again."""
        skipped = set(skip)
        suspended = self.view.result.suspended if self.view.result is not None else ()
        for driver in self.drivers:
            if not isinstance(driver, WatchesInterfaces) or driver.name in skipped:
                continue
            if driver.name in suspended:
                continue
            try:
                present = driver.interface_keys()
            except ConnectionLost as exc:
                log.warning("%s: interface dump failed: %s", driver.name, exc)
                self._publish(self.reconciler.suspend(driver.name))
                continue
            except Exception as exc:
                log.warning("%s: interface dump failed: %s", driver.name, exc)
                continue
            seen = self._interfaces.get(driver.name, {})
            # Deleted and re-created between two dumps: gone first (what VPP dropped with it
            # is forgotten), then present again (and re-applied).
            replaced = {k for k, ident in present.items() if seen.get(k, ident) != ident}
            self._interfaces[driver.name] = dict(present)
            if replaced:
                gone = self.reconciler.refresh_external(
                    HOST_INTERFACE_KIND, present.keys() - replaced
                )
                if gone is not None:
                    self._publish(gone)
            result = self.reconciler.refresh_external(HOST_INTERFACE_KIND, present.keys())
            if result is not None:
                log.info("%s: interfaces changed", driver.name)
                self._publish(result)

    def reconnect(self, name: str) -> bool:
        driver = self._by_name.get(name)
        if driver is not None:
            try:
                driver.reconnect()
            except DriverUnavailable as exc:
                log.error("%s: reconnect failed: %s", name, exc)
                return False
            except Exception as exc:
                log.warning("%s: reconnect failed: %s", name, exc)
                return False
        result = self.reconciler.resync(name)
        self._publish(result)
        self._interfaces.pop(name, None)  # the resync dumped them afresh
        if name in result.suspended:
            log.warning("%s: still unreachable after reconnecting", name)
            return False
        self.metrics.record_reconnect(name)
        log.info(
            "%s: reconnected and resynced (%d created, %d updated, %d deleted)",
            name,
            result.created,
            result.updated,
            result.deleted,
        )
        return True
