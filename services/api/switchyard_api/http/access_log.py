"""One access-log line per request (logger `switchyard.access`): method, path, status,
duration and the request id (taken from X-Request-ID or made up, and echoed back). Health
and metrics probes are not logged. The same timing and status feed the request metrics, so
that a request is observed once.

Plain ASGI, not Starlette's BaseHTTPMiddleware: that one costs a task group and two memory
streams per request, a large share of a write's CPU time (benchmarks/api_writes.py)."""

from __future__ import annotations

import logging
import time
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..metrics import ApiMetrics

log = logging.getLogger("switchyard.access")
PROBES = frozenset({"/healthz", "/readyz", "/metrics"})
REQUEST_ID = "X-Request-ID"
_REQUEST_ID_HEADER = REQUEST_ID.lower().encode()


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == _REQUEST_ID_HEADER:
            given = str(value.decode("latin-1"))
            if 0 < len(given) <= 128 and given.isascii() and given.isprintable():
                return given
            break
    return uuid.uuid4().hex


class AccessLog:
    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                MutableHeaders(scope=message).append(REQUEST_ID, request_id)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            self.metrics.record_request(scope, status, elapsed)
            path = scope.get("path", "")
            if path not in PROBES:
                client = scope.get("client")
                log.info(
                    "%s %s %d",
                    scope["method"],
                    path,
                    status,
                    extra={
                        "request_id": request_id,
                        "method": scope["method"],
                        "path": path,
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 2),
                        "client": client[0] if client else None,
                    },
                )
