"""Prometheus metrics of one adapter (its own registry, so tests can run several)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.events = Counter(
            "switchyard_kube_events",
            "Kubernetes watch events received, by kind and event type",
            ["kind", "type"],
            registry=self.registry,
        )
        self.writes = Counter(
            "switchyard_kube_writes",
            "Switchyard writes, by verb (create, update, delete) and outcome "
            "(ok, rejected, stale, unavailable)",
            ["verb", "outcome"],
            registry=self.registry,
        )
        self.watch_restarts = Counter(
            "switchyard_kube_watch_restarts",
            "Watches restarted, by kind and reason (gone, error, timeout)",
            ["kind", "reason"],
            registry=self.registry,
        )
        self.lag = Histogram(
            "switchyard_kube_write_lag_seconds",
            "From receiving a Kubernetes change to its Switchyard write completing",
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
            registry=self.registry,
        )
        self.rejected = Gauge(
            "switchyard_kube_rejected_objects",
            "Objects Switchyard currently refuses (422/409) or that others own",
            registry=self.registry,
        )
        self.watch_up = Gauge(
            "switchyard_kube_watch_up",
            "1 while the watch of a kind is established",
            ["kind"],
            registry=self.registry,
        )
