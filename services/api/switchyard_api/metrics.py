"""Prometheus metrics of the API service (one registry per app, so tests can build many)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.requests import Request
from starlette.responses import Response


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

    async def middleware(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            route = _route_template(request)
            self.requests.labels(route, request.method, str(status)).inc()
            elapsed = time.perf_counter() - started
            self.latency.labels(route, request.method, str(status)).observe(elapsed)


def _route_template(request: Request) -> str:
    # The template, not the raw path: label cardinality must not grow with object names.
    route = request.scope.get("route")
    return str(getattr(route, "path", "unmatched"))
