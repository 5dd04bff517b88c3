"""The adapter: six informers feeding one reconciler, plus /healthz and /metrics."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from .backoff import Backoff
from .desired import KUBE_KINDS
from .informer import Informer
from .kube import ApiException, KubeClient
from .mapping import NodeDefaults
from .metrics import Metrics
from .plan import Plan
from .reconciler import Reconciler
from .settings import Settings
from .switchyard import Stale, SwitchyardClient, Unavailable

log = logging.getLogger("switchyard_kube")
DEBOUNCE_SECONDS = 0.05


class Adapter:
    def __init__(
        self,
        settings: Settings,
        kube: KubeClient,
        switchyard: SwitchyardClient,
        echo: Callable[[str], None] | None = None,
    ) -> None:
        self.settings = settings
        self.kube = kube
        self.metrics = Metrics()
        defaults = NodeDefaults(settings.uplink_interface, settings.bgp_asn)
        report = self._post_event if settings.events and not settings.dry_run else None
        self.reconciler = Reconciler(switchyard, self.metrics, defaults, report, echo)
        self.changed = asyncio.Event()
        self.changed_at: float | None = None
        self.informers = {
            kind: Informer(
                kind, kube, self.metrics, self._on_change, settings.watch_timeout_seconds
            )
            for kind in KUBE_KINDS
        }
        self.backoff = Backoff()
        self.passes = 0

    @property
    def cache(self) -> dict[str, dict[tuple[str, str], dict[str, Any]]]:
        return {kind: informer.cache for kind, informer in self.informers.items()}

    def _on_change(self, at: float) -> None:
        if self.changed_at is None:
            self.changed_at = at
        self.changed.set()

    async def _post_event(self, source: dict[str, Any], reason: str, message: str) -> None:
        try:
            await self.kube.post_event(source, reason, message)
        except (ApiException, OSError) as exc:  # no rights, or the API is away: logs suffice
            log.info("could not post a Kubernetes Event", extra={"reason": str(exc)[:200]})

    # --once and --dry-run

    async def once(self) -> Plan:
        """One LIST of every kind, then one reconcile (or, with --dry-run, only the plan)."""
        for informer in self.informers.values():
            await informer.relist()
        if self.settings.dry_run:
            return await self.reconciler.plan(self.cache)
        return await self.reconciler.reconcile(self.cache)

    # watching

    def healthy(self) -> tuple[bool, list[str]]:
        down = [kind for kind, inf in self.informers.items() if not inf.watching]
        return not down, down

    async def run(self) -> None:
        tasks = [
            asyncio.create_task(inf.run(), name=f"informer-{kind}")
            for kind, inf in self.informers.items()
        ]
        try:
            await asyncio.gather(*(inf.synced.wait() for inf in self.informers.values()))
            log.info("initial lists done, reconciling")
            await self._reconcile_forever()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _reconcile_forever(self) -> None:
        loop = asyncio.get_running_loop()
        next_resync = loop.time() + self.settings.resync_seconds
        while True:
            timeout = max(0.0, next_resync - loop.time())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), timeout)
            if loop.time() >= next_resync:
                self.reconciler.forget()
                next_resync = loop.time() + self.settings.resync_seconds
            await asyncio.sleep(DEBOUNCE_SECONDS)  # one pass for a burst of events
            self.changed.clear()
            changed_at, self.changed_at = self.changed_at, None
            try:
                await self.reconciler.reconcile(self.cache, changed_at)
                self.passes += 1
                self.backoff.reset()
            except (Unavailable, Stale) as exc:
                self.changed_at = changed_at if self.changed_at is None else self.changed_at
                delay = 0.0 if isinstance(exc, Stale) else self.backoff.next_delay()
                log.warning(
                    "reconcile interrupted, retrying",
                    extra={"reason": str(exc)[:300], "retryInSeconds": round(delay, 2)},
                )
                await asyncio.sleep(delay)
                self.changed.set()


def health_app(adapter: Adapter) -> web.Application:
    async def healthz(_: web.Request) -> web.Response:
        ok, down = adapter.healthy()
        if ok:
            return web.json_response({"status": "ok"})
        return web.json_response({"status": "watch down", "kinds": down}, status=503)

    async def metrics(_: web.Request) -> web.Response:
        body = generate_latest(adapter.metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    return app
