"""The node agent: settings -> drivers -> reconciler -> stream, plus metrics and health.

Threading: the asyncio event loop runs the stream, the timers and the HTTP endpoints; the
Reconciler and every driver call run on ONE dedicated worker thread (a single-thread
executor), because the drivers are blocking and not thread-safe (vpp_papi's sync client).
Every piece of work that touches the reconciler, a driver or the state directory is a job on
that thread, so they are totally ordered: decode + apply + persist of a revision, the periodic
`retry_due()`, a driver's `reconnect()` + `resync(dataplane)`, the facts for Hello. The loop
reads only `_View`, an immutable summary the worker publishes after each job.

Start-up (fail static): connect the drivers (failures are retried in the background), dump
the dataplanes (`resync()`), apply the persisted last configuration if there is one, and only
then connect to the controller, saying the persisted revision in Hello.

A driver's ConnectionLost suspends its dataplane in the reconciler (the result lists it); the
agent then calls the driver's `reconnect()` and `resync(dataplane)` with backoff until the
dataplane is back. Shutting down leaves the dataplane as it is: the node keeps forwarding.

Local desired state (learned_routes.py): a driver that is a LocalStateSource (the GoBGP
driver's learned routes) publishes objects from the node itself; they are merged with the
controller's configuration (the controller wins on a shared key), applied through the same
reconciler as deltas on the worker thread, and never persisted as the controller's revision.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final, Protocol, TypeVar, runtime_checkable

from switchyard.v1 import distribution_pb2 as dpb
from switchyard_contract.nodeconfig import NodeObject

from . import __version__
from .descriptors import Descriptor
from .health_server import HealthServer
from .learned_routes import LocalInbox, LocalStateSink, LocalUpdate, MergedDesired
from .metrics import AgentMetrics
from .persistence import ConfigStore
from .reconciler import ApplyResult, Reconciler, RetryPolicy
from .settings import AgentSettings
from .stream import (
    MAX_STATUS_KEYS,
    ApplyOutcome,
    Backoff,
    StreamClient,
    channel_credentials,
    decode_objects,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

# How often the loop checks whether the reconciler has retries due.
RETRY_TICK: Final = 0.2


# --------------------------------------------------------------------------- driver protocol


@dataclass(frozen=True, slots=True)
class InterfaceFacts:
    name: str
    addresses: tuple[str, ...] = ()
    up: bool = False


@dataclass(frozen=True, slots=True)
class DataplaneFacts:
    """What a driver reports for Hello's NodeFacts."""

    version: str = ""
    interfaces: tuple[InterfaceFacts, ...] = ()


@runtime_checkable
class DataplaneDriver(Protocol):
    """One dataplane connection (VPP, GoBGP) and the descriptors that go through it.

    `name` is the `dataplane` of its descriptors. Every method is called on the agent's
    worker thread only. `reconnect()` (re)establishes the connection: it is called once at
    start and, after a ConnectionLost, with backoff until it succeeds (raise on failure).
    `close()` at shutdown; it must leave the dataplane's state alone."""

    @property
    def name(self) -> str: ...

    def descriptors(self) -> Sequence[Descriptor[Any]]: ...

    def reconnect(self) -> None: ...

    def close(self) -> None: ...


@runtime_checkable
class Probes(Protocol):
    """A driver that can check its daemon is alive without changing anything."""

    def probe(self) -> bool:
        """True when the daemon restarted since the last probe (its state must be resynced);
        raises ConnectionLost when it cannot be reached."""
        ...


@runtime_checkable
class ReportsFacts(Protocol):
    """Optional: a driver that reports facts for Hello (versions, VPP's interfaces)."""

    def facts(self) -> DataplaneFacts: ...


@runtime_checkable
class Prefetches(Protocol):
    """Optional: a driver with a bulk path, told the values right before the reconciler
    applies them (the VPP driver pipelines its cnat calls). Errors are logged and ignored:
    the reconciler's own calls then report them per object."""

    def prefetch(
        self,
        upserts: Mapping[str, object],
        removals: Iterable[str] = (),
        *,
        snapshot: bool = False,
    ) -> int: ...


@runtime_checkable
class LocalStateSource(Protocol):
    """Optional: a driver that derives desired state from the node itself (the GoBGP driver:
    learned routes as `route/<prefix>` objects). Called once on the worker thread at start:
    it starts watching, publishes changes to `sink` from then on (from any thread), and
    returns the objects it holds right now. One local source per agent."""

    def start_local_state(self, sink: LocalStateSink) -> Mapping[str, object]: ...


class DriverUnavailable(Exception):
    """A driver that cannot work here (not installed, incompatible dataplane version): the
    agent refuses to start. Raised by a driver's factory, or by `reconnect()` at start."""


# --------------------------------------------------------------------------- the agent


@dataclass(frozen=True, slots=True)
class _View:
    """What the worker last published; read by the event loop."""

    revision: int | None = None  # the configuration held (applied or persisted)
    result: ApplyResult | None = None  # the last reconciler call's whole-node view
    next_retry_at: float | None = None
    persist_error: str | None = None
    # Objects of the held configuration that did not decode: key -> message.
    undecoded: Mapping[str, str] = field(default_factory=dict)

    def errors(self) -> dict[str, str]:
        """Every error in effect: objects that did not decode, then dataplane failures."""
        errors = dict(self.undecoded)
        for failure in self.result.failures if self.result is not None else ():
            errors.setdefault(failure.key, failure.message)
        return errors


@dataclass
class _WorkerState:
    """Touched only on the worker thread."""

    persist_error: str | None = None
    revision: int | None = None
    undecoded: dict[str, str] = field(default_factory=dict)


class Agent:
    """Implements the stream's ConfigSink."""

    def __init__(
        self,
        settings: AgentSettings,
        drivers: Sequence[DataplaneDriver] | None = None,
        *,
        metrics: AgentMetrics | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.settings = settings
        self.metrics = metrics or AgentMetrics()
        if drivers is None:
            from .drivers.factory import DriverOptions, build_drivers

            options = DriverOptions(
                vpp_api_socket=settings.vpp_api_socket,
                gobgp_api=settings.gobgp_api,
                allow_ipv6_frontends=settings.allow_ipv6_frontends,
                state_dir=settings.state_dir / "drivers",
            )
            drivers = build_drivers(settings.driver_names, options)
        self.drivers = list(drivers)
        self._by_name = {driver.name: driver for driver in self.drivers}
        descriptors = [d for driver in self.drivers for d in driver.descriptors()]
        self.reconciler = Reconciler(descriptors, retry=retry, observer=self.metrics)
        self.store = ConfigStore(settings.state_dir)
        self._desired = MergedDesired()  # the controller's objects + local ones (worker thread)
        self._inbox = LocalInbox()  # local updates on their way to the worker
        self._local_jobs: set[asyncio.Future[None]] = set()
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="switchyard-worker"
        )
        self._worker = _WorkerState()
        self._view = _View()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closing = False
        self._stop = asyncio.Event()
        self._reconnecting: dict[str, asyncio.Task[None]] = {}
        self._unreachable: set[str] = set()  # dataplanes a probe found dead or restarted
        self.started = asyncio.Event()  # fail-static start done, about to connect
        self.health: HealthServer | None = None

        credentials = None
        if settings.tls_ca is not None:
            credentials = channel_credentials(
                settings.tls_ca.read_bytes(),
                settings.tls_cert.read_bytes() if settings.tls_cert else None,
                settings.tls_key.read_bytes() if settings.tls_key else None,
            )
        token = settings.bearer_token()
        if token and credentials is None:
            log.warning("sending the node token without TLS: set --tls-ca outside a lab")
        capabilities = [driver.name for driver in self.drivers]
        if settings.allow_ipv6_frontends:
            capabilities.append("ipv6-frontends")
        self.stream = StreamClient(
            target=settings.api,
            node=settings.node,
            sink=self,
            token=token,
            credentials=credentials,
            agent_version=__version__,
            capabilities=capabilities,
            backoff=self._backoff(),
            status_interval=settings.status_interval,
            on_reconnect=lambda: self.metrics.record_reconnect("controller"),
        )

    def _backoff(self) -> Backoff:
        return Backoff(self.settings.reconnect_backoff_min, self.settings.reconnect_backoff_max)

    # ------------------------------------------------------------------ lifecycle

    def stop(self) -> None:
        """Ask `run()` to finish (event loop thread; signal handlers)."""
        self._stop.set()

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        tasks: list[asyncio.Task[None]] = []
        try:
            address = self.settings.metrics_address
            if address is not None:
                self.health = HealthServer(self.metrics, *address, connections=self.connections)
                await self.health.start()
                log.info("serving /healthz and /metrics on %s:%d", address[0], self.health.port)
            await self._job(self._w_start)
            self.started.set()
            tasks = [
                asyncio.create_task(self.stream.run(), name="stream"),
                asyncio.create_task(self._retry_loop(), name="retries"),
                asyncio.create_task(self._probe_loop(), name="probes"),
            ]
            stop = asyncio.create_task(self._stop.wait(), name="stop")
            done, _ = await asyncio.wait([*tasks, stop], return_when=asyncio.FIRST_COMPLETED)
            stop.cancel()
            for task in done:
                if task is not stop:
                    task.result()  # a crashed task ends the agent with its error
                    raise RuntimeError(f"task {task.get_name()} ended unexpectedly")
        finally:
            self._closing = True
            tasks += self._reconnecting.values()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await asyncio.to_thread(self._shutdown_worker)
            if self.health is not None:
                await self.health.stop()
            log.info("stopped; the dataplane keeps its configuration")

    def _shutdown_worker(self) -> None:
        try:
            self._executor.submit(self._w_close).result()
        finally:
            self._executor.shutdown(wait=True, cancel_futures=True)

    async def _job(self, fn: Callable[[], T]) -> T:
        """Run fn on the worker thread. The status follows every job, even one whose awaiting
        task was cancelled (the worker finishes what it started)."""
        future = self._executor.submit(fn)
        future.add_done_callback(self._job_done)
        return await asyncio.wrap_future(future)

    def _job_done(self, _: concurrent.futures.Future[Any]) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(self._after_job)

    def _after_job(self) -> None:
        if self._closing:
            return
        self.stream.status_changed()
        result = self._view.result
        for name in result.suspended if result is not None else ():
            self._ensure_reconnect(name)

    def _ensure_reconnect(self, name: str) -> None:
        if not self._closing and name not in self._reconnecting:
            self._reconnecting[name] = asyncio.create_task(
                self._reconnect_dataplane(name), name=f"reconnect-{name}"
            )

    # ------------------------------------------------------------------ LocalStateSink

    def publish(self, update: LocalUpdate) -> None:
        """A local source's change (any thread): applied by a worker job, coalesced."""
        if self._inbox.push(update):
            self._call_soon(self._schedule_local)

    def request_resync(self, dataplane: str) -> None:
        """A local source saw its dataplane restart (any thread): reconnect and resync it."""
        self._call_soon(lambda: self._ensure_reconnect(dataplane))

    def _call_soon(self, fn: Callable[[], None]) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(fn)

    def _schedule_local(self) -> None:
        if self._closing:
            return
        job = asyncio.ensure_future(self._job(self._w_apply_local))
        self._local_jobs.add(job)
        job.add_done_callback(self._local_done)

    def _local_done(self, job: asyncio.Future[None]) -> None:
        self._local_jobs.discard(job)
        if not job.cancelled() and job.exception() is not None:
            log.error("applying local desired state failed: %s", job.exception())

    async def _retry_loop(self) -> None:
        while True:
            await asyncio.sleep(RETRY_TICK)
            due = self._view.next_retry_at
            if due is not None and due <= time.monotonic():
                await self._job(self._w_retry)

    async def _probe_loop(self) -> None:
        """Notice a dead or restarted dataplane even when no configuration changes."""
        while True:
            await asyncio.sleep(self.settings.probe_interval)
            for name in await self._job(self._w_probe):
                self._unreachable.add(name)
                self.stream.status_changed()
                if name not in self._reconnecting:
                    self._reconnecting[name] = asyncio.create_task(
                        self._reconnect_dataplane(name), name=f"reconnect-{name}"
                    )

    def _w_probe(self) -> list[str]:
        """Names of the dataplanes that need a reconnect and resync."""
        lost = []
        for driver in self.drivers:
            if not isinstance(driver, Probes) or driver.name in self._reconnecting:
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
        return lost

    async def _reconnect_dataplane(self, name: str) -> None:
        backoff = self._backoff()
        log.warning("lost the connection to %s: reconnecting", name)
        try:
            while True:
                await asyncio.sleep(backoff.next())
                if await self._job(lambda: self._w_reconnect(name)):
                    self._unreachable.discard(name)
                    # The revision was applied again from scratch: say so to the controller.
                    self.stream.reconfirm()
                    return
        finally:
            self._reconnecting.pop(name, None)

    # ------------------------------------------------------------------ ConfigSink

    @property
    def applied_revision(self) -> int | None:
        return self._view.revision

    async def node_facts(self) -> dpb.NodeFacts:
        return await self._job(self._w_facts)

    async def apply_snapshot(self, chunks: Sequence[dpb.Snapshot]) -> ApplyOutcome:
        return await self._job(lambda: self._w_apply_snapshot(chunks))

    async def apply_delta(self, chunks: Sequence[dpb.Delta]) -> ApplyOutcome:
        return await self._job(lambda: self._w_apply_delta(chunks))

    def status(self) -> dpb.Status:
        view = self._view
        status = dpb.Status()
        if view.revision is not None:
            status.applied_revision = view.revision
        suspended: tuple[str, ...] = ()
        if view.result is not None:
            status.pending_keys.extend(view.result.pending[:MAX_STATUS_KEYS])
            suspended = view.result.suspended
        errors = sorted(view.errors().items())
        if errors:
            more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
            status.last_error = f"{errors[0][0]}: {errors[0][1]}{more}"
        for driver in self.drivers:
            lost = driver.name in suspended or driver.name in self._unreachable
            state = "disconnected" if lost else "connected"
            status.components[driver.name] = state
        if view.persist_error is not None:
            status.components["state"] = "write failed"
            if not status.last_error:
                status.last_error = f"cannot save the configuration: {view.persist_error}"
        return status

    def connections(self) -> dict[str, object]:
        """For /healthz: whether the controller stream is up, and each dataplane's state."""
        view = self._view
        suspended = view.result.suspended if view.result is not None else ()
        lost = set(suspended) | self._unreachable
        return {
            "controller": "connected" if self.stream.connected.is_set() else "disconnected",
            "dataplanes": {
                d.name: "disconnected" if d.name in lost else "connected" for d in self.drivers
            },
        }

    def converged(self, revision: int) -> bool:
        view = self._view
        return view.revision == revision and view.result is not None and not view.errors()

    # ------------------------------------------------------------------ worker thread

    def _publish(self, result: ApplyResult | None = None) -> None:
        self._view = _View(
            revision=self._worker.revision,
            result=result if result is not None else self._view.result,
            next_retry_at=self.reconciler.next_retry_at(),
            persist_error=self._worker.persist_error,
            undecoded=MappingProxyType(dict(self._worker.undecoded)),
        )

    def _w_start(self) -> None:
        for driver in self.drivers:
            try:
                driver.reconnect()
            except DriverUnavailable:
                raise
            except Exception as exc:
                log.warning("%s: not connected (%s); retrying in the background", driver.name, exc)
        self._publish(self.reconciler.resync())
        self._w_start_local_sources()
        try:
            persisted = self.store.load()
        except OSError as exc:
            log.error("cannot read the persisted configuration in %s: %s", self.store.path, exc)
            persisted = None
        if persisted is None:
            log.info("no persisted configuration: waiting for the controller")
            return
        if persisted.node != self.settings.node:
            log.warning(
                "ignoring the persisted configuration of node %r (this is %r)",
                persisted.node,
                self.settings.node,
            )
            return
        merged = self._desired.replace_controller(persisted.objects)
        result = self.reconciler.apply_snapshot(persisted.revision, merged)
        self._worker.revision = persisted.revision
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

    def _w_start_local_sources(self) -> None:
        """Start the local sources; what they hold now joins the desired state before the
        persisted configuration is applied, so a restart does not drop learned routes."""
        for driver in self.drivers:
            if not isinstance(driver, LocalStateSource):
                continue
            try:
                initial = driver.start_local_state(self)
            except Exception as exc:
                log.error("%s: cannot start its local state source: %s", driver.name, exc)
                continue
            upserts, removals = self._desired.local_update(LocalUpdate(initial, replace=True))
            if upserts or removals:
                result = self.reconciler.apply_delta(self.reconciler.revision, upserts, removals)
                self._publish(result)

    def _w_apply_local(self) -> None:
        update = self._inbox.drain()
        if update is None:
            return
        upserts, removals = self._desired.local_update(update)
        if not upserts and not removals:
            return
        self._prefetch(upserts, removals, snapshot=False)
        result = self.reconciler.apply_delta(self.reconciler.revision, upserts, removals)
        self._publish(result)

    def _w_close(self) -> None:
        for driver in self.drivers:
            try:
                driver.close()
            except Exception as exc:
                log.warning("%s: close failed: %s", driver.name, exc)

    def _w_facts(self) -> dpb.NodeFacts:
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

    def _w_apply_snapshot(self, chunks: Sequence[dpb.Snapshot]) -> ApplyOutcome:
        revision = chunks[-1].revision
        decoded: dict[str, NodeObject] = {}
        errors: dict[str, str] = {}
        for chunk in chunks:
            decode_objects(chunk.objects, decoded, errors)
        desired: dict[str, object] = dict(decoded)
        previous = self._desired.controller
        for key in errors:
            # An object that does not decode keeps its last good state on the node.
            if key not in desired and key in previous:
                desired[key] = previous[key]
        merged = self._desired.replace_controller(desired)
        self._prefetch(merged, (), snapshot=True)
        result = self.reconciler.apply_snapshot(revision, merged)
        self._worker.undecoded = errors
        return self._applied(revision, result)

    def _w_apply_delta(self, chunks: Sequence[dpb.Delta]) -> ApplyOutcome:
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
        merged_upserts, merged_removals = self._desired.controller_delta(upserts, removals)
        self._prefetch(merged_upserts, merged_removals, snapshot=False)
        result = self.reconciler.apply_delta(revision, merged_upserts, merged_removals)
        undecoded = self._worker.undecoded
        for key in (*upserts, *removals):
            undecoded.pop(key, None)  # a good value (or removal) replaces a bad one
        undecoded.update(errors)
        return self._applied(revision, result)

    def _prefetch(
        self, upserts: Mapping[str, object], removals: Iterable[str], *, snapshot: bool
    ) -> None:
        suspended = self._view.result.suspended if self._view.result is not None else ()
        for driver in self.drivers:
            if driver.name in suspended or not isinstance(driver, Prefetches):
                continue
            try:
                driver.prefetch(upserts, list(removals), snapshot=snapshot)
            except Exception as exc:
                log.debug("%s: prefetch failed: %s", driver.name, exc)

    def _applied(self, revision: int, result: ApplyResult) -> ApplyOutcome:
        self._worker.revision = revision
        try:
            self.store.save(self.settings.node, revision, self._desired.controller)
            self._worker.persist_error = None
        except Exception as exc:  # a full disk must not stop the node from applying
            log.error("cannot save revision %d to %s: %s", revision, self.store.path, exc)
            self._worker.persist_error = str(exc)
        self._publish(result)
        return ApplyOutcome(revision, tuple(sorted(self._view.errors().items())))

    def _w_retry(self) -> None:
        result = self.reconciler.retry_due()
        self._publish(result)

    def _w_reconnect(self, name: str) -> bool:
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
