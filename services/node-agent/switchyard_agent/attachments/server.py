"""The agent's attachment endpoint for `switchyard-cni`: HTTP over a unix socket that only
root may use (0600 in a 0700 directory), served by uvicorn inside the agent's event loop.
Each request becomes one job on the agent's worker thread (see attachments/service.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import uvicorn
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .protocol import CODE_GENERIC, CODE_INVALID_CONFIG, AddRequest, ErrorReply
from .service import AttachError, AttachmentService

log = logging.getLogger(__name__)
T = TypeVar("T")
Job = Callable[[Callable[[], T]], Awaitable[T]]


def _error(status: int, code: int, message: str) -> JSONResponse:
    return JSONResponse(ErrorReply(code=code, msg=message).model_dump(), status_code=status)


def create_app(
    service: AttachmentService,
    job: Job[Any],
    changed: Callable[[AddRequest, str, bool], None],
) -> Starlette:
    """`changed(request, vpp_interface, detached)` after every ADD and effective DEL."""

    async def add(request: Request) -> JSONResponse:
        try:
            body = AddRequest.model_validate(await request.json())
        except (ValidationError, ValueError) as exc:
            return _error(400, CODE_INVALID_CONFIG, f"bad attachment request: {exc}")
        try:
            reply = await job(lambda: service.add(body))
        except AttachError as exc:
            return _error(409, exc.code, exc.message)
        changed(body, reply.vpp_interface, False)
        return JSONResponse(reply.model_dump(by_alias=True))

    async def delete(request: Request) -> JSONResponse:
        cid, ifname = request.path_params["cid"], request.path_params["ifname"]
        gone = await job(lambda: service.delete(cid, ifname))
        if gone is not None:
            changed(gone.add_request, gone.vpp_interface, True)
        return JSONResponse({})

    async def check(request: Request) -> JSONResponse:
        cid, ifname = request.path_params["cid"], request.path_params["ifname"]
        if request.query_params.get("verify") == "false":
            found = await job(lambda: service.lookup(cid, ifname))
            if found is None:
                return _error(404, CODE_GENERIC, f"no attachment of {ifname} to {cid}")
            return JSONResponse(found.model_dump(by_alias=True))
        try:
            reply = await job(lambda: service.check(cid, ifname))
        except AttachError as exc:
            return _error(409, exc.code, exc.message)
        except Exception as exc:  # VPP unreachable during the check
            return _error(503, CODE_GENERIC, f"cannot check: {exc}")
        return JSONResponse(reply.model_dump(by_alias=True))

    path = "/v1/attachments/{cid}/{ifname}"
    return Starlette(
        routes=[
            Route("/v1/attachments", add, methods=["POST"]),
            Route(path, delete, methods=["DELETE"]),
            Route(path, check, methods=["GET"]),
        ]
    )


class _QuietServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # the agent owns signal handling


class AttachmentServer:
    def __init__(self, path: Path, app: Starlette) -> None:
        self.path = path
        self._app = app
        self._server: _QuietServer | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Bound and listening under a temporary name, then renamed: the socket appears only
        # when it accepts connections (a plugin never sees a refused connection at start-up).
        pending = self.path.with_name(self.path.name + ".new")
        with contextlib.suppress(FileNotFoundError):
            pending.unlink()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)  # created 0600: the socket attaches pods, root only
        try:
            sock.bind(str(pending))
        finally:
            os.umask(old)
        sock.listen(128)
        config = uvicorn.Config(self._app, log_level="warning", access_log=False, lifespan="off")
        self._server = _QuietServer(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started:
            if self._task.done():
                self._task.result()
                raise RuntimeError("attachment server stopped during startup")
            await asyncio.sleep(0.01)
        os.replace(pending, self.path)
        log.info("serving pod attachments on %s", self.path)

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
