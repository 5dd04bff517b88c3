"""The agent's local HTTP endpoints: /healthz (JSON) and /metrics (Prometheus).

A Starlette app served by uvicorn inside the agent's asyncio loop (no extra thread), bound to
a local address; port 0 picks a free port (tests).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable, Iterator

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .metrics import AgentMetrics

Connections = Callable[[], dict[str, object]]


def create_app(metrics: AgentMetrics, connections: Connections | None = None) -> Starlette:
    async def healthz(request: Request) -> JSONResponse:
        # Liveness: 200 while the process serves; degradation is in the body, with the state
        # of the controller stream and of each dataplane.
        body: dict[str, object] = dict(metrics.health())
        if connections is not None:
            body.update(connections())
        return JSONResponse(body)

    async def prometheus(request: Request) -> Response:
        body = generate_latest(metrics.registry)
        return Response(body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    return Starlette(
        routes=[Route("/healthz", healthz, methods=["GET"]), Route("/metrics", prometheus)]
    )


class _QuietServer(uvicorn.Server):
    # The agent owns signal handling; uvicorn must not take SIGTERM/SIGINT over.
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class HealthServer:
    def __init__(
        self,
        metrics: AgentMetrics,
        host: str = "127.0.0.1",
        port: int = 0,
        connections: Connections | None = None,
    ) -> None:
        self._app = create_app(metrics, connections)
        self._host = host
        self._port = port
        self._server: _QuietServer | None = None
        self._task: asyncio.Task[None] | None = None
        self._socket: socket.socket | None = None

    @property
    def port(self) -> int:
        if self._socket is None:
            raise RuntimeError("health server not started")
        return int(self._socket.getsockname()[1])

    async def start(self, timeout: float = 5.0) -> None:
        # Binding ourselves makes port 0 usable and the port known before serving.
        family = socket.AF_INET6 if ":" in self._host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self._host, self._port))
        self._socket = sock
        config = uvicorn.Config(self._app, log_level="warning", access_log=False, lifespan="off")
        self._server = _QuietServer(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self._server.started:
            if self._task.done():
                self._task.result()  # re-raise the startup error
                raise RuntimeError("health server stopped during startup")
            if loop.time() > deadline:
                raise TimeoutError("health server did not start")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task
        if self._socket is not None:
            self._socket.close()
        self._server = self._task = self._socket = None
