"""The API socket server: accepts vpp_papi clients on a unix socket, processes
each connection's requests strictly in order, and emulates VPP crashes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from pathlib import Path
from typing import Any

from .definitions import ApiDefinitions
from .dispatch import Dispatcher
from .errors import VppCrash
from .protocol import frame_all, split_frames

READ_SIZE = 1 << 18


class ApiServer:
    def __init__(self, socket_path: Path, api: ApiDefinitions) -> None:
        self.socket_path = socket_path
        self.dispatcher = Dispatcher(api)
        self.crashes = 0
        self.crash_reasons: list[str] = []
        self._writers: set[asyncio.StreamWriter] = set()
        self._server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()
        self._server = await asyncio.start_unix_server(self._serve, path=str(self.socket_path))

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        self.drop_connections()
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()

    @property
    def client_count(self) -> int:
        return len(self._writers)

    def drop_connections(self) -> None:
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()

    def crash(self, reason: str) -> None:
        """What a VPP abort + restart looks like to clients: every connection
        drops and all state is gone."""
        self.crashes += 1
        self.crash_reasons.append(reason)
        print(
            f"vppemu: *** VPP CRASH: {reason}; dropping all clients, state lost ***",
            file=sys.stderr,
            flush=True,
        )
        self.drop_connections()
        self.dispatcher.reset_state()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        buf = bytearray()
        handle = self.dispatcher.handle
        try:
            while True:
                chunk = await reader.read(READ_SIZE)
                if not chunk:
                    break
                buf += chunk
                frames, used = split_frames(buf)
                del buf[:used]
                replies: list[bytes] = []
                try:
                    for payload in frames:
                        replies.extend(handle(payload, writer))
                except VppCrash as e:
                    if replies:
                        writer.write(frame_all(replies))
                    self.crash(str(e))
                    return
                if replies:
                    writer.write(frame_all(replies))
                    await writer.drain()
                self.deliver_events()
        except (ConnectionError, OSError):
            pass
        finally:
            self._writers.discard(writer)
            self.dispatcher.forget_client(writer)
            writer.close()

    def deliver_events(self) -> None:
        """Send the interface events that requests or control commands caused."""
        for origin, payload in self.dispatcher.take_events():
            if isinstance(origin, asyncio.StreamWriter) and origin in self._writers:
                origin.write(frame_all([payload]))

    def status(self) -> dict[str, Any]:
        return {
            "pid": os.getpid(),
            "crashes": self.crashes,
            "crash_reasons": list(self.crash_reasons),
            "clients": self.client_count,
        }
