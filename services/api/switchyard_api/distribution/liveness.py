"""Replica heartbeats, and the age-out of node status held by a replica that died.

Every replica bumps a counter in `store_meta` (key "replica/<hash of its id>") every
`interval` seconds. Every replica also watches the counters of the replicas that connected
nodes name in their status: one whose counter has not moved for `timeout` seconds of the
watcher's own clock (or that has no counter at all) is dead, and its nodes are written
`connected: false`. Counters, not timestamps, so clock skew between hosts does not matter.

The write is conditional (the row still names the dead replica and says connected), so an
agent that already reconnected to another replica keeps its fresh status.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import delete, select

from ..store.models import StoredObject, StoreMeta
from ..store.store import IntentStore
from .status import NodeStatusRecorder

log = logging.getLogger("switchyard.distribution")
PREFIX = "replica/"


def heartbeat_key(replica: str) -> str:
    return PREFIX + hashlib.sha256(replica.encode()).hexdigest()[:48]


@dataclass
class _Seen:
    value: str | None
    changed_at: float


class ReplicaLiveness:
    def __init__(
        self,
        store: IntentStore,
        recorder: NodeStatusRecorder,
        replica: str,
        *,
        interval: float = 1.0,
        timeout: float = 3.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.recorder = recorder
        self.replica = replica
        self.key = heartbeat_key(replica)
        self.interval = interval
        self.timeout = timeout
        self._clock = clock
        self._beats = 0
        self._last_beat: float | None = None
        self._seen: dict[str, _Seen] = {}

    async def run(self) -> None:
        while True:
            try:
                await asyncio.to_thread(self.tick)
            except Exception:
                log.exception("replica heartbeat or age-out failed; will retry")
            await asyncio.sleep(self.interval)

    def tick(self) -> None:
        self.beat()
        self.age_out()

    def beat(self) -> None:
        self._beats += 1
        with self.store.read() as session, session.begin():
            session.merge(StoreMeta(key=self.key, value=str(self._beats)))
        now = self._clock()
        if self._last_beat is not None and now - self._last_beat > self.timeout / 2:
            # Others may have aged our nodes out meanwhile: write them again.
            self.recorder.rewrite_connected()
        self._last_beat = now

    def age_out(self) -> list[str]:
        """Write `connected: false` for nodes held by dead replicas; the nodes written."""
        # Nodes first, counters second: a replica writes its counter before it accepts
        # streams, so any replica named here has a counter visible to the second read.
        claimed = self._connected_nodes()
        counters = self._counters()
        now = self._clock()
        dead: set[str] = set()
        for replica in {r for r in claimed.values() if r != self.replica}:
            key = heartbeat_key(replica)
            value = counters.get(key)
            seen = self._seen.get(key)
            if seen is None or seen.value != value:
                self._seen[key] = _Seen(value, now)
            elif now - seen.changed_at >= self.timeout:
                dead.add(replica)
        self._forget_old_counters(counters, now)
        if not dead:
            return []
        nodes = [node for node, replica in claimed.items() if replica in dead]
        written = self._mark_disconnected(nodes, dead)
        if written:
            log.warning(
                "replica(s) %s stopped heart-beating: %d node(s) shown disconnected",
                ", ".join(sorted(dead)),
                len(written),
            )
        return written

    def retire(self) -> None:
        """This replica stops cleanly: its counter goes."""
        with self.store.read() as session, session.begin():
            session.execute(delete(StoreMeta).where(StoreMeta.key == self.key))

    # -- queries
    def _connected_nodes(self) -> dict[str, str]:
        status = StoredObject.status
        query = select(StoredObject.name, status["replica"].as_string()).where(
            StoredObject.kind == "Node",
            StoredObject.namespace == "",
            status["connected"].as_boolean().is_(True),
        )
        with self.store.read() as session:
            return {name: replica for name, replica in session.execute(query) if replica}

    def _counters(self) -> dict[str, str]:
        query = select(StoreMeta.key, StoreMeta.value).where(StoreMeta.key.startswith(PREFIX))
        with self.store.read() as session:
            return {key: value for key, value in session.execute(query)}

    def _mark_disconnected(self, nodes: list[str], dead: set[str]) -> list[str]:
        written = []
        with self.store.read() as session, session.begin():
            rows = session.scalars(
                select(StoredObject)
                .where(StoredObject.kind == "Node", StoredObject.namespace == "")
                .where(StoredObject.name.in_(nodes))
                .with_for_update()
            )
            for row in rows:
                current = dict(row.status or {})
                if current.get("connected") and current.get("replica") in dead:
                    row.status = {**current, "connected": False, "dataplanes": {}}
                    written.append(row.name)
        return written

    def _forget_old_counters(self, counters: dict[str, str], now: float) -> None:
        """Drop the counters of replicas gone for long (kill -9 leaves them behind)."""
        stale = []
        for key, value in counters.items():
            if key == self.key:
                continue
            seen = self._seen.get(key)
            if seen is None or seen.value != value:
                self._seen[key] = _Seen(value, now)
            elif now - seen.changed_at >= 20 * self.timeout:
                stale.append(key)
        if stale:
            with self.store.read() as session, session.begin():
                session.execute(delete(StoreMeta).where(StoreMeta.key.in_(stale)))
            for key in stale:
                self._seen.pop(key, None)
