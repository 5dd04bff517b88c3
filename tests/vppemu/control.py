"""The control channel: JSON lines over a unix socket next to the API socket.

Request: {"cmd": NAME, ...args}. Response: {"ok": true, "result": ...} or
{"ok": false, "error": "..."}. Used by harness.Emulator; any language can
drive it (e.g. `socat - UNIX-CONNECT:api.sock.ctl`)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .server import ApiServer


class ControlServer:
    def __init__(self, path: Path, api_server: ApiServer) -> None:
        self.path = path
        self.api_server = api_server
        self._server: asyncio.AbstractServer | None = None
        self.commands: dict[str, Callable[..., Any]] = {
            "ping": lambda: "pong",
            "status": api_server.status,
            "call_counts": lambda: dict(self._d.counts),
            "reset_counts": self._reset_counts,
            "inject_failure": self._inject_failure,
            "add_interface": self._add_interface,
            "delete_interface": self._delete_interface,
            "state": self._state,
            "unimplemented": lambda: list(self._d.unimplemented),
            "crash": lambda reason="crash requested over the control channel": api_server.crash(
                reason
            ),
            "reset": self._reset,
        }

    @property
    def _d(self) -> Any:
        return self.api_server.dispatcher

    async def start(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        self._server = await asyncio.start_unix_server(self._serve, path=str(self.path))

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def _reset_counts(self) -> None:
        self._d.counts.clear()

    def _inject_failure(self, message: str, retval: int = -1, times: int = 1) -> None:
        self._d.inject_failure(message, int(retval), int(times))

    def _add_interface(self, name: str, dev_type: str = "virtual") -> int:
        index: int = self._d.state.add_interface(name, dev_type)
        return index

    def _delete_interface(self, sw_if_index: int) -> None:
        self._d.state.interfaces.validate(sw_if_index)
        self._d.state.delete_interface(sw_if_index)

    def _state(self) -> dict[str, Any]:
        snap: dict[str, Any] = self._d.snapshot()
        snap.update(self.api_server.status())
        snap["internal_errors"] = list(self._d.internal_errors)
        return snap

    def _reset(self, drop_connections: bool = True) -> None:
        """Back to a fresh VPP: empty state, no counts, failures or records."""
        if drop_connections:
            self.api_server.drop_connections()
        d = self._d
        d.reset_state()
        d.counts.clear()
        d.failures.clear()
        d.unimplemented.clear()
        d.internal_errors.clear()

    def execute(self, request: dict[str, Any]) -> dict[str, Any]:
        args = dict(request)
        cmd = args.pop("cmd", None)
        fn = self.commands.get(str(cmd))
        if fn is None:
            return {"ok": False, "error": f"unknown command {cmd!r}"}
        try:
            return {"ok": True, "result": fn(**args)}
        except Exception as e:
            return {"ok": False, "error": f"{type(e).__name__}: {e}"}
        finally:
            self.api_server.deliver_events()  # e.g. an interface added or deleted

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                try:
                    request = json.loads(line)
                    response = self.execute(request)
                except json.JSONDecodeError as e:
                    response = {"ok": False, "error": f"bad JSON: {e}"}
                writer.write(json.dumps(response).encode() + b"\n")
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()
