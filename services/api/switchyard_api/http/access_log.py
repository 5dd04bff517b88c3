"""One access-log line per request (logger `switchyard.access`): method, path, status,
duration and the request id (taken from X-Request-ID or made up, and echoed back). Health
and metrics probes are not logged."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable

from fastapi import Request, Response

log = logging.getLogger("switchyard.access")
PROBES = frozenset({"/healthz", "/readyz", "/metrics"})
REQUEST_ID = "X-Request-ID"


def _request_id(request: Request) -> str:
    given = request.headers.get(REQUEST_ID, "")
    if 0 < len(given) <= 128 and given.isascii() and given.isprintable():
        return given
    return uuid.uuid4().hex


async def access_log(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    request_id = _request_id(request)
    request.state.request_id = request_id
    started = time.perf_counter()
    response = await call_next(request)
    response.headers[REQUEST_ID] = request_id
    if request.url.path not in PROBES:
        log.info(
            "%s %s %d",
            request.method,
            request.url.path,
            response.status_code,
            extra={
                "request_id": request_id,
                "method": request.method,
                "path": request.url.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "client": request.client.host if request.client else None,
            },
        )
    return response
