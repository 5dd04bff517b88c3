"""The distributor of one API replica: compiles committed intent and hands each connected
agent what changed for it.

It learns of commits from the change feed (in-process commits and PostgreSQL NOTIFY from other
replicas) and also reads the change log every `catch_up_interval` seconds, so a lost
notification delays a change but never loses it. All compiler work runs on one worker thread.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
from collections.abc import Callable, Coroutine, Mapping
from concurrent.futures import ThreadPoolExecutor
from types import MappingProxyType
from typing import Any, TypeVar

from switchyard.v1 import distribution_pb2 as dpb
from switchyard_contract.nodeconfig import NodeDelta, NodeObject
from switchyard_contract.wire import DeltaEncoder, SnapshotEncoder

from ..metrics import ApiMetrics
from ..store.feed import ChangeFeed
from .intent_state import CompiledState
from .session import AgentSession
from .status import NodeStatusRecorder

log = logging.getLogger("switchyard.distribution")
T = TypeVar("T")
# The parts of every "nothing changed" delta: the same objects for every node, so that the
# DeltaEncoder serializes the (empty) body once per round, not once per node.
_NOTHING: Mapping[str, NodeObject] = MappingProxyType({})
_NO_REMOVALS: frozenset[str] = frozenset()
GC_YOUNG_THRESHOLD = 50_000
# How long a resuming agent that is ahead of this replica waits for it (catch-up intervals).
RESUME_WAIT_INTERVALS = 3
RESUME_POLL_SECONDS = 0.02


class DistributionHub:
    def __init__(
        self,
        state: CompiledState,
        feed: ChangeFeed,
        status: NodeStatusRecorder,
        *,
        catch_up_interval: float = 1.0,
        status_flush_interval: float = 0.2,
        metrics: ApiMetrics | None = None,
    ) -> None:
        self.state = state
        self.feed = feed
        self.status = status
        self.catch_up_interval = catch_up_interval
        self.status_flush_interval = status_flush_interval
        self.sessions: dict[str, AgentSession] = {}
        self.ready = asyncio.Event()
        self.stopping = False  # new streams are turned away (to another replica)
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="switchyard-compiler")
        self._tasks: list[asyncio.Task[None]] = []
        self.metrics = metrics
        self._sent_counters: dict[str, tuple[Any, Any]] = {}
        self.deltas = DeltaEncoder()
        self.snapshots = SnapshotEncoder()  # used on the worker thread only

    async def in_worker(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._worker, functools.partial(fn, *args))

    def run_blocking(self, fn: Callable[..., T], *args: Any) -> T:
        """From a request thread: run fn on the worker (the compiled state is not
        thread-safe) and wait for it."""
        return self._worker.submit(functools.partial(fn, *args)).result(timeout=60)

    def start(self, *companions: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run the distributor and the status writer, and `companions` (heartbeats, the
        revocation watch) until stop()."""
        self._tasks = [
            asyncio.create_task(self._distribute(), name="distributor"),
            asyncio.create_task(self._flush_status(), name="status-flush"),
            *(asyncio.create_task(companion()) for companion in companions),
        ]

    async def stop(self) -> None:
        self.stopping = True
        for session in list(self.sessions.values()):
            session.close(dpb.Goodbye.REASON_SHUTTING_DOWN, "the API replica is shutting down")
        self.status.all_disconnected()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await asyncio.get_running_loop().run_in_executor(None, self.status.flush)
        self._worker.shutdown(wait=False, cancel_futures=True)

    async def _distribute(self) -> None:
        await self.in_worker(self.state.load)
        # The compiled state is millions of long-lived objects. Every full collection would
        # walk them all, and a fan-out allocates enough per agent to trigger one every few
        # writes: that was a fifth of the server's CPU per write at 1,000 agents. Frozen, the
        # collector leaves them alone (they are still freed by reference counting).
        gc.collect()
        gc.freeze()
        # And the young generation is collected every GC_YOUNG_THRESHOLD allocations, not 700:
        # most of a round's objects (futures, messages, report rows) are gone by then, so
        # fewer survive into older generations to be walked again.
        gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])
        self.ready.set()
        log.info(
            "compiled intent at revision %d for %d nodes",
            self.state.revision,
            len(self.state.nodes()),
        )
        while True:
            try:
                while (batch := await self.in_worker(self.state.catch_up)) is not None:
                    self._fan_out(batch.deltas, batch.to_revision)
            except Exception:
                log.exception("compiling the change log failed; retrying")
            await self.feed.wait(self.catch_up_interval)

    def _fan_out(self, deltas: dict[str, NodeDelta], revision: int) -> None:
        """Every session moves to the new revision: nodes without changes get an empty delta,
        so that their ACK shows they are current."""
        self.deltas.new_round()
        for node, session in self.sessions.items():
            delta = deltas.get(node) or NodeDelta(node, _NOTHING, _NO_REMOVALS)
            session.offer(delta, revision)

    async def _flush_status(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.status_flush_interval)
            try:
                await loop.run_in_executor(None, self.status.flush)
            except Exception:
                log.exception("writing agent status failed; will retry")

    # -- sessions ---------------------------------------------------------------------------
    def register(self, node: str, token_id: str | None = None) -> AgentSession:
        previous = self.sessions.get(node)
        if previous is not None:
            previous.close(dpb.Goodbye.REASON_REPLACED, "another stream for this node took over")
        session = AgentSession(node, token_id)
        self.sessions[node] = session
        if self.metrics is not None:
            self.metrics.connected_agents.set(len(self.sessions))
        return session

    def unregister(self, session: AgentSession) -> bool:
        """True when it was the node's current session."""
        if self.sessions.get(session.node) is session:
            del self.sessions[session.node]
            if self.metrics is not None:
                self.metrics.connected_agents.set(len(self.sessions))
            return True
        return False

    def count_sent(self, kind: str, size: int) -> None:
        if self.metrics is None:
            return
        counters = self._sent_counters.get(kind)
        if counters is None:  # label lookups cost more than the increments: once per kind
            counters = (
                self.metrics.distribution_messages.labels(kind),
                self.metrics.distribution_bytes.labels(kind),
            )
            self._sent_counters[kind] = counters
        counters[0].inc()
        counters[1].inc(size)

    def _snapshot(self, node: str) -> tuple[int, list[bytes]]:
        own, shared = self.state.node_layers(node)
        revision = self.state.revision
        return revision, self.snapshots.encode(node, revision, own, shared)

    def _resume(self, node: str, revision: int) -> tuple[int, NodeDelta | None]:
        return self.state.revision, self.state.delta_since(node, revision)

    async def snapshot(self, node: str) -> tuple[int, list[bytes]]:
        return await self.in_worker(self._snapshot, node)

    async def resume(self, node: str, revision: int) -> tuple[int, NodeDelta | None]:
        """The delta that takes `node` from `revision` to this replica's. An agent coming from
        a replica that was ahead holds a revision this one has not compiled yet: wait for the
        catch-up (a few intervals at most) rather than answer with a snapshot of an older
        revision, which would take the node back. A revision that never comes (a restored
        database) still gets the snapshot, after the wait."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + RESUME_WAIT_INTERVALS * self.catch_up_interval
        while self.state.revision < revision and loop.time() < deadline:
            await asyncio.sleep(RESUME_POLL_SECONDS)
        return await self.in_worker(self._resume, node, revision)
