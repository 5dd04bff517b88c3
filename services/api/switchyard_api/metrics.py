"""Prometheus metrics of the API service (one registry per app, so tests can build many)."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send


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

    def middleware(self, app: ASGIApp) -> ASGIApp:
        """Counts and times every HTTP request by route template (plain ASGI)."""

        async def observe(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            started = time.perf_counter()
            status = 500

            async def send_observed(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = int(message["status"])
                await send(message)

            try:
                await app(scope, receive, send_observed)
            finally:
                route, method = _route_template(scope), scope["method"]
                self.requests.labels(route, method, str(status)).inc()
                elapsed = time.perf_counter() - started
                self.latency.labels(route, method, str(status)).observe(elapsed)

        return observe


def _route_template(scope: Scope) -> str:
    # The template, not the raw path: label cardinality must not grow with object names.
    route = scope.get("route")
    return str(getattr(route, "path", "unmatched"))
