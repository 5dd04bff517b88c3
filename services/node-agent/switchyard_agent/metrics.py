"""The agent's Prometheus metrics and the health summary behind /healthz.

One registry per instance (tests build many). Updated from the reconciler's worker thread
through `on_apply`, read from the event loop by the HTTP server: prometheus_client is
thread-safe, and the health summary sits behind a lock.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import TypedDict

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from .reconciler import ApplyResult

# Applies range from sub-millisecond no-ops to minutes-long first snapshots on a big node.
_DURATION_BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0, 60.0, 300.0)


class Health(TypedDict):
    status: str  # "starting" before the first apply, then "ok" or "degraded"
    appliedRevision: int | None
    lastError: str | None


class AgentMetrics:
    """Implements the reconciler's ApplyObserver."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.applied_revision = Gauge(
            "switchyard_agent_applied_revision",
            "Revision of the last configuration the reconciler applied",
            registry=self.registry,
        )
        self.apply_duration = Histogram(
            "switchyard_agent_apply_duration_seconds",
            "Duration of reconciler calls (apply, resync, retries)",
            buckets=_DURATION_BUCKETS,
            registry=self.registry,
        )
        self.failures = Counter(
            "switchyard_agent_apply_failures",
            "Failed dataplane operations by object kind (after inline retries)",
            ["kind"],
            registry=self.registry,
        )
        self.reconnects = Counter(
            "switchyard_agent_reconnects",
            "Reconnections by target (controller, vpp, gobgp)",
            ["target"],
            registry=self.registry,
        )
        self.objects = Gauge(
            "switchyard_agent_objects",
            "Objects the agent owns in the dataplane, by kind",
            ["kind"],
            registry=self.registry,
        )
        self.pending = Gauge(
            "switchyard_agent_pending_objects",
            "Objects waiting for a dependency, a deferred deletion or a reconnect",
            registry=self.registry,
        )
        self._lock = threading.Lock()
        self._seen_kinds: set[str] = set()
        self._health: Health = {"status": "starting", "appliedRevision": None, "lastError": None}

    def on_apply(self, result: ApplyResult, duration: float, objects: Mapping[str, int]) -> None:
        self.apply_duration.observe(duration)
        for failure in result.new_failures:
            self.failures.labels(failure.kind).inc()
        # Kinds that dropped to zero must read 0, not keep their last value.
        for kind in self._seen_kinds | set(objects):
            self.objects.labels(kind).set(objects.get(kind, 0))
        self._seen_kinds |= set(objects)
        self.pending.set(len(result.pending))
        if result.revision > 0:
            self.applied_revision.set(result.revision)
        with self._lock:
            self._health = {
                "status": "ok" if result.converged else "degraded",
                "appliedRevision": result.revision if result.revision > 0 else None,
                "lastError": _summarize(result),
            }

    def record_reconnect(self, target: str = "controller") -> None:
        """Called by the stream client (and the drivers) after re-establishing a connection."""
        self.reconnects.labels(target).inc()

    def health(self) -> Health:
        with self._lock:
            return Health(**self._health)


def _summarize(result: ApplyResult) -> str | None:
    if result.failures:
        first = result.failures[0]
        more = len(result.failures) - 1
        return f"{first.key}: {first.message}" + (f" (+{more} more)" if more else "")
    if result.suspended:
        return f"disconnected from {', '.join(result.suspended)}"
    if result.not_applied:
        first = result.not_applied[0]
        more = len(result.not_applied) - 1
        return f"{first.key}: {first.message}" + (f" (+{more} more)" if more else "")
    return None
