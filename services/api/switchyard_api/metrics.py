"""Prometheus metrics of the API service (one registry per app, so tests can build many)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import Scope


class ApiMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "switchyard_http_requests",
            "HTTP requests by route template, method and status",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "switchyard_http_request_duration_seconds",
            "HTTP request latency by route template, method and status",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.revision = Gauge(
            "switchyard_revision", "Current global intent revision", registry=self.registry
        )
        self.connected_agents = Gauge(
            "switchyard_connected_agents",
            "Agents with a stream to this replica",
            registry=self.registry,
        )
        self.distribution_messages = Counter(
            "switchyard_distribution_messages",
            "Configuration messages sent to agents, by type (snapshot, delta)",
            ["type"],
            registry=self.registry,
        )
        self.distribution_bytes = Counter(
            "switchyard_distribution_bytes",
            "Bytes of configuration sent to agents, by message type",
            ["type"],
            registry=self.registry,
        )

    def record_request(self, scope: Scope, status: int, seconds: float) -> None:
        """One HTTP request, by route template (http/access_log.py times it)."""
        route, method = _route_template(scope), scope["method"]
        self.requests.labels(route, method, str(status)).inc()
        self.latency.labels(route, method, str(status)).observe(seconds)


def _route_template(scope: Scope) -> str:
    # The template, not the raw path: label cardinality must not grow with object names.
    route = scope.get("route")
    return str(getattr(route, "path", "unmatched"))
