"""Learned routes: GoBGP's best paths (all equal-cost ones) -> `route/<prefix>` objects.

A thread of its own (with its own channel) holds a WatchEvent stream on gobgpd's best paths
(`init` set, so the daemon's first message proves the watch is registered), then lists the
whole global table and publishes it as the source's entire state (`replace`). Each later event
names the prefixes whose best or multipath set changed; the watcher reads those prefixes back
with ListPath and publishes the difference. GoBGP's StartBgp is sent with multipath on, so an
added or removed equal-cost path is an event too.

A route is learned when the destination's best path comes from a peer (a prefix this node
originates itself always has its local path as best: no route). Its next hops are those of
every usable path that ranks like the best one (eBGP/iBGP, local preference, AS-path length,
origin, MED: what GoBGP's multipath compares).

When the stream breaks the watcher keeps the published routes (fail static) and polls
gobgpd. A daemon that answers with no BGP server after it had one was restarted: the watcher
asks the agent to resync the "gobgp" dataplane (which re-applies global, peers and paths) and
watches again once the server runs; the fresh listing then replaces the routes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping
from typing import Any, Final

import grpc

from gobgpapi import gobgp_pb2 as api
from switchyard_contract.nodeconfig import NextHop, Route

from ...descriptors import DescriptorError
from ...learned_routes import LocalStateSink, LocalUpdate
from .. import GOBGP
from .connection import GobgpConnection
from .paths import FAMILY_V4, FAMILY_V6, PathInfo, multipath_next_hops, path_info

log = logging.getLogger(__name__)

POLL_INTERVAL: Final = 0.5  # seconds between attempts while gobgpd is away or not started


def learned_routes(destinations: Iterable[api.Destination], local_asn: int) -> dict[str, Route]:
    """Routes (by key) for the destinations of a ListPath reply."""
    by_prefix: dict[str, list[PathInfo]] = {}
    for destination in destinations:
        for path in destination.paths:
            info = path_info(path, local_asn)
            if info is not None:
                by_prefix.setdefault(info.prefix, []).append(info)
    routes: dict[str, Route] = {}
    for prefix, infos in by_prefix.items():
        hops = multipath_next_hops(infos)
        if hops:
            route = Route(prefix, tuple(NextHop(h) for h in hops))
            routes[route.key] = route
    return routes


class LearnedRouteWatcher:
    def __init__(self, address: str, sink: LocalStateSink, poll: float = POLL_INTERVAL) -> None:
        self._conn = GobgpConnection(address)
        self._sink = sink
        self._poll = poll
        self._routes: dict[str, Route] = {}
        self._local_asn = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._stream: Any = None
        self._thread = threading.Thread(target=self._run, name="gobgp-learned", daemon=True)

    # ------------------------------------------------------------------ control

    def current(self) -> dict[str, Route]:
        """The learned routes right now (empty when gobgpd is unreachable or not started)."""
        try:
            started = self._conn.get_global()
            if started.asn == 0:
                return {}
            return self._list_all(started.asn)
        except DescriptorError as exc:
            log.info("learned routes: gobgpd not readable yet (%s)", exc)
            return {}

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            stream = self._stream
        if stream is not None:
            stream.cancel()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self._conn.close()

    # ------------------------------------------------------------------ the thread

    def _run(self) -> None:
        had_server = False
        while not self._stop.is_set():
            try:
                asn = self._conn.get_global().asn
            except DescriptorError:
                self._stop.wait(self._poll)
                continue
            if asn == 0:
                if had_server:
                    log.warning("gobgpd lost its BGP server (restarted): asking for a resync")
                    self._sink.request_resync(GOBGP)
                    had_server = False
                self._stop.wait(self._poll)
                continue
            had_server = True
            self._local_asn = asn
            try:
                self._watch()
            except grpc.RpcError as exc:
                if not self._stop.is_set():
                    log.info("learned routes: watch ended (%s)", _describe(exc))
            except DescriptorError as exc:
                log.info("learned routes: %s", exc)
            except Exception:
                log.exception("learned routes: watcher failed")
            self._stop.wait(self._poll)

    def _watch(self) -> None:
        table = api.WatchEventRequest.Table(
            filters=[
                api.WatchEventRequest.Table.Filter(
                    type=api.WatchEventRequest.Table.Filter.BEST, init=True
                )
            ]
        )
        stream = self._conn.stub.WatchEvent(api.WatchEventRequest(table=table))
        with self._lock:
            self._stream = stream
        try:
            first = True
            for event in stream:
                if self._stop.is_set():
                    return
                if not event.HasField("table"):
                    continue
                if first:  # the initial dump: the watch is registered, list everything
                    first = False
                    self._publish(self._list_all(self._local_asn), replace=True)
                    continue
                self._changed(event.table.paths)
        finally:
            with self._lock:
                self._stream = None
            stream.cancel()

    def _list_all(self, local_asn: int) -> dict[str, Route]:
        routes: dict[str, Route] = {}
        for family in (FAMILY_V4, FAMILY_V6):
            routes.update(learned_routes(self._conn.list_paths(family), local_asn))
        return routes

    def _changed(self, paths: Iterable[api.Path]) -> None:
        prefixes: dict[int, set[str]] = {}
        for path in paths:
            info = path_info(path, self._local_asn)
            if info is not None:
                prefixes.setdefault(path.family.afi, set()).add(info.prefix)
        upserts: dict[str, Route] = {}
        removals: set[str] = set()
        for family in (FAMILY_V4, FAMILY_V6):
            wanted = prefixes.get(family.afi)
            if not wanted:
                continue
            found = learned_routes(self._conn.list_paths(family, sorted(wanted)), self._local_asn)
            for prefix in wanted:
                key = f"{Route.KIND}/{prefix}"
                if key in found:
                    upserts[key] = found[key]
                else:
                    removals.add(key)
        self._publish(upserts, removals=removals)

    def _publish(
        self, upserts: Mapping[str, Route], removals: Iterable[str] = (), replace: bool = False
    ) -> None:
        if replace:
            gone = set(self._routes) - set(upserts)
            self._routes = dict(upserts)
            log.info("learned routes: %d (full listing, %d gone)", len(upserts), len(gone))
            self._sink.publish(LocalUpdate(dict(upserts), frozenset(), replace=True))
            return
        changed = {k: v for k, v in upserts.items() if self._routes.get(k) != v}
        gone = {k for k in removals if k in self._routes}
        if not changed and not gone:
            return
        for key in gone:
            del self._routes[key]
        self._routes.update(changed)
        log.debug("learned routes: %d changed, %d withdrawn", len(changed), len(gone))
        self._sink.publish(LocalUpdate(dict(changed), frozenset(gone)))


def _describe(error: grpc.RpcError) -> str:
    if isinstance(error, grpc.Call):
        return f"{error.code().name}: {error.details()}"
    return str(error)
