"""The node agent: settings -> drivers -> reconciler -> stream, plus metrics and health.

Threading: the asyncio event loop runs the stream, the timers and the HTTP endpoints; the
Reconciler and every driver call run on ONE dedicated worker thread (a single-thread
executor), because the drivers are blocking and not thread-safe (vpp_papi's sync client).
Every piece of work that touches the reconciler, a driver or the state directory is a job on
that thread, so they are totally ordered: decode + apply + persist of a revision, the periodic
`retry_due()`, a driver's `reconnect()` + `resync(dataplane)`, the facts for Hello. The loop
reads only the `WorkerView` that worker.py publishes after each job.

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
import functools
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final, TypeVar

from switchyard.v1 import distribution_pb2 as dpb

from . import __version__
from .attachments.protocol import AddRequest
from .attachments.reports import change_report, full_report
from .attachments.server import AttachmentServer, create_app
from .attachments.service import AttachmentService
from .drivers import HOST_INTERFACE_KIND
from .drivers.protocols import DataplaneDriver
from .health_server import HealthServer
from .learned_routes import LocalUpdate
from .metrics import AgentMetrics
from .persistence import ConfigStore
from .reconciler import Reconciler, RetryPolicy
from .settings import AgentSettings
from .sink import MAX_STATUS_KEYS, ApplyOutcome, fill_pending
from .stream import Backoff, StreamClient, channel_credentials
from .worker import Worker

log = logging.getLogger(__name__)

T = TypeVar("T")

# How often the loop checks whether the reconciler has retries due.
RETRY_TICK: Final = 0.2


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
        descriptors = [d for driver in self.drivers for d in driver.descriptors()]
        # Objects waiting for a pod interface that VPP does not have yet do not hold back the
        # ACK: the CNI plugin creates it later, and the interface watch applies them then.
        self.reconciler = Reconciler(
            descriptors,
            retry=retry,
            observer=self.metrics,
            awaited_kinds=(HOST_INTERFACE_KIND,),
        )
        self.store = ConfigStore(settings.state_dir)
        self._worker = Worker(
            settings.node, self.drivers, self.reconciler, self.store, self.metrics
        )
        self._local_jobs: set[asyncio.Future[None]] = set()
        self._interfaces_queued = False
        self.attachment_server: AttachmentServer | None = None
        if settings.cni_socket != "off":
            service = AttachmentService(
                settings.state_dir,
                self._worker.desired,
                self.reconciler,
                self._worker.publish_result,
            )
            self._worker.attachments = service
            app = create_app(service, self._job, self._attachment_changed)
            self.attachment_server = AttachmentServer(Path(settings.cni_socket), app)
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="switchyard-worker"
        )
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
            targets=settings.api_targets,
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
            await self._job(lambda: self._worker.start(self, self._interfaces_changed))
            if self.attachment_server is not None:
                await self.attachment_server.start()
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
            if self.attachment_server is not None:
                await self.attachment_server.stop()
            await asyncio.to_thread(self._shutdown_worker)
            if self.health is not None:
                await self.health.stop()
            log.info("stopped; the dataplane keeps its configuration")

    def _shutdown_worker(self) -> None:
        try:
            self._executor.submit(self._worker.close).result()
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
        result = self._worker.view.result
        for name in result.suspended if result is not None else ():
            self._ensure_reconnect(name)

    def _ensure_reconnect(self, name: str) -> None:
        if not self._closing and name not in self._reconnecting:
            self._reconnecting[name] = asyncio.create_task(
                self._reconnect_dataplane(name), name=f"reconnect-{name}"
            )

    # ------------------------------------------------------------------ pod attachments

    def _attachment_changed(self, request: AddRequest, interface: str, detached: bool) -> None:
        if request.pod_name:
            self.stream.send(change_report(request, interface, detached))
        self.stream.status_changed()

    def opening_reports(self) -> list[dpb.AgentMessage]:
        """What every new stream starts with: the node's whole set of attachments."""
        service = self._worker.attachments
        return [full_report(service.store.all())] if service is not None else []

    # ------------------------------------------------------------------ LocalStateSink

    def publish(self, update: LocalUpdate) -> None:
        """A local source's change (any thread): applied by a worker job, coalesced."""
        if self._worker.inbox.push(update):
            self._call_soon(self._schedule_local)

    def request_resync(self, dataplane: str) -> None:
        """A local source saw its dataplane restart (any thread): reconnect and resync it."""
        self._call_soon(lambda: self._ensure_reconnect(dataplane))

    def _interfaces_changed(self) -> None:
        """The dataplane reported an interface event (vpp_papi's reader thread)."""
        self._call_soon(self._schedule_interfaces)

    def _schedule_interfaces(self) -> None:
        if self._closing or self._interfaces_queued:
            return  # a dump is queued already: it will see this change too
        self._interfaces_queued = True
        job = asyncio.ensure_future(self._job(self._refresh_interfaces))
        self._local_jobs.add(job)
        job.add_done_callback(self._local_done)

    def _refresh_interfaces(self) -> None:
        self._interfaces_queued = False  # events from now on need another dump
        self._worker.refresh_interfaces(skip=tuple(self._reconnecting))

    def _call_soon(self, fn: Callable[[], None]) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(fn)

    def _schedule_local(self) -> None:
        if self._closing:
            return
        job = asyncio.ensure_future(self._job(self._worker.apply_local))
        self._local_jobs.add(job)
        job.add_done_callback(self._local_done)

    def _local_done(self, job: asyncio.Future[None]) -> None:
        self._local_jobs.discard(job)
        if not job.cancelled() and job.exception() is not None:
            log.error("applying local desired state failed: %s", job.exception())

    async def _retry_loop(self) -> None:
        while True:
            await asyncio.sleep(RETRY_TICK)
            due = self._worker.view.next_retry_at
            if due is not None and due <= time.monotonic():
                await self._job(self._worker.retry)

    async def _probe_loop(self) -> None:
        """Notice a dead or restarted dataplane even when no configuration changes."""
        while True:
            await asyncio.sleep(self.settings.probe_interval)
            probe = functools.partial(self._worker.probe, tuple(self._reconnecting))
            for name in await self._job(probe):
                self._unreachable.add(name)
                self.stream.status_changed()
                if name not in self._reconnecting:
                    self._reconnecting[name] = asyncio.create_task(
                        self._reconnect_dataplane(name), name=f"reconnect-{name}"
                    )

    async def _reconnect_dataplane(self, name: str) -> None:
        backoff = self._backoff()
        log.warning("lost the connection to %s: reconnecting", name)
        try:
            while True:
                await asyncio.sleep(backoff.next())
                if await self._job(lambda: self._worker.reconnect(name)):
                    self._unreachable.discard(name)
                    # The revision was applied again from scratch: say so to the controller.
                    self.stream.reconfirm()
                    return
        finally:
            self._reconnecting.pop(name, None)

    # ------------------------------------------------------------------ ConfigSink

    @property
    def applied_revision(self) -> int | None:
        return self._worker.view.revision

    async def node_facts(self) -> dpb.NodeFacts:
        return await self._job(self._worker.facts)

    async def apply_snapshot(self, chunks: Sequence[dpb.Snapshot]) -> ApplyOutcome:
        return await self._job(lambda: self._worker.apply_snapshot(chunks))

    async def apply_delta(self, chunks: Sequence[dpb.Delta]) -> ApplyOutcome:
        return await self._job(lambda: self._worker.apply_delta(chunks))

    def status(self) -> dpb.Status:
        view = self._worker.view
        status = dpb.Status(pending_count=0)  # said even when 0: older agents never say it
        if view.revision is not None:
            status.applied_revision = view.revision
        suspended: tuple[str, ...] = ()
        if view.result is not None:
            fill_pending(status, view.result)
            status.retrying_keys.extend(view.result.retrying[:MAX_STATUS_KEYS])
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
        view = self._worker.view
        suspended = view.result.suspended if view.result is not None else ()
        lost = set(suspended) | self._unreachable
        return {
            "controller": "connected" if self.stream.connected.is_set() else "disconnected",
            "dataplanes": {
                d.name: "disconnected" if d.name in lost else "connected" for d in self.drivers
            },
        }

    def converged(self, revision: int) -> bool:
        view = self._worker.view
        return view.result is not None and view.converged(revision)
