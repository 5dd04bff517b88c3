"""One kind's informer: LIST, then WATCH from the list's resourceVersion with bookmarks.

A 410 Gone or a broken watch re-lists (so a deletion missed while the watch was down is seen:
the cache is replaced, not merged); errors back off exponentially with jitter. The cache holds
the raw JSON of every object of the kind, keyed by (namespace, name).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import aiohttp

from .backoff import Backoff
from .kube import ApiException, KubeClient
from .metrics import Metrics

log = logging.getLogger("switchyard_kube.informer")
ObjectKey = tuple[str, str]


def object_key(obj: dict[str, Any]) -> ObjectKey:
    meta = obj.get("metadata") or {}
    return str(meta.get("namespace") or ""), str(meta.get("name") or "")


class Informer:
    def __init__(
        self,
        kind: str,
        kube: KubeClient,
        metrics: Metrics,
        on_change: Callable[[float], None],
        watch_timeout: int = 300,
        backoff: Backoff | None = None,
    ) -> None:
        self.kind = kind
        self.kube = kube
        self.metrics = metrics
        self.on_change = on_change
        self.watch_timeout = watch_timeout
        self.backoff = backoff or Backoff()
        self.cache: dict[ObjectKey, dict[str, Any]] = {}
        self.resource_version = ""
        self.synced = asyncio.Event()
        self.watching = False
        self.lists = 0  # full LISTs made, for tests and logs

    async def relist(self) -> None:
        items, version = await self.kube.list(self.kind)
        self.cache = {object_key(obj): obj for obj in items}
        self.resource_version = version
        self.lists += 1
        self.synced.set()
        log.info(
            "listed", extra={"kind": self.kind, "objects": len(items), "resourceVersion": version}
        )
        self.on_change(time.monotonic())

    def _set_watching(self, up: bool) -> None:
        self.watching = up
        self.metrics.watch_up.labels(self.kind).set(1 if up else 0)

    def handle(self, event: dict[str, Any]) -> None:
        kind_of_event = str(event.get("type"))
        obj: dict[str, Any] = event.get("object") or {}
        version = (obj.get("metadata") or {}).get("resourceVersion")
        if version:
            self.resource_version = str(version)
        if kind_of_event == "BOOKMARK":
            return
        self.metrics.events.labels(self.kind, kind_of_event).inc()
        if kind_of_event == "DELETED":
            self.cache.pop(object_key(obj), None)
        elif kind_of_event in ("ADDED", "MODIFIED"):
            self.cache[object_key(obj)] = obj
        else:
            return
        self.on_change(time.monotonic())

    async def run(self) -> None:
        must_list = True
        while True:
            try:
                if must_list:
                    await self.relist()
                    must_list = False
                self._set_watching(True)
                async for event in self.kube.watch(
                    self.kind, self.resource_version, self.watch_timeout
                ):
                    self.handle(event)
                    self.backoff.reset()
                # The server ended the watch (its timeout): resume from the last version seen.
                self.metrics.watch_restarts.labels(self.kind, "timeout").inc()
            except ApiException as exc:
                self._set_watching(False)
                must_list = True
                if exc.status == 410:
                    self.metrics.watch_restarts.labels(self.kind, "gone").inc()
                    log.info("watch expired (410 Gone), re-listing", extra={"kind": self.kind})
                    continue
                await self._pause(f"HTTP {exc.status}: {exc.reason}")
            except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as exc:
                self._set_watching(False)
                must_list = True
                await self._pause(f"{type(exc).__name__}: {exc}")
            except Exception as exc:  # e.g. the client's "malformed watch event": never die
                log.exception("unexpected watch failure", extra={"kind": self.kind})
                self._set_watching(False)
                must_list = True
                await self._pause(f"{type(exc).__name__}: {exc}")

    async def _pause(self, reason: str) -> None:
        self.metrics.watch_restarts.labels(self.kind, "error").inc()
        delay = self.backoff.next_delay()
        log.warning(
            "watch broken, re-listing after backoff",
            extra={"kind": self.kind, "reason": reason, "retryInSeconds": round(delay, 2)},
        )
        await asyncio.sleep(delay)
