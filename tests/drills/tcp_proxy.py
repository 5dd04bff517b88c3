"""A TCP proxy on loopback that a drill can break: `cut()` resets every relayed connection
(both directions at once, like a broken path), `down()` also closes the port so that new
connections are refused (the target "becomes unreachable"), `up()` listens again on the same
port.

One asyncio loop in a thread owns every socket. (A thread a direction, as before, raced: a
pump that closed the socket the other pump was blocked on left that side open, with no fd,
so the target never learnt that the connection had been cut.)"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from tests.api.support import free_port

T = TypeVar("T")


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self.connections = 0  # relayed so far, cut or not
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._handlers: set[asyncio.Task[None]] = set()
        self._generation = 0  # moves at every cut: a connection half made by then is dropped
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def __enter__(self) -> TcpProxy:
        self._thread.start()
        self.up()
        return self

    def __exit__(self, *exc: object) -> None:
        self.down()
        self._call(self._settle())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        if not self._thread.is_alive():
            self._loop.close()

    def up(self) -> None:
        """Listen on the port (again)."""

        async def listen() -> None:
            if self._server is None:
                self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)

        self._call(listen())

    def down(self) -> int:
        """Refuse new connections (the port is closed) and reset the open ones; how many
        sockets were cut, as `cut()`."""

        async def close() -> int:
            if self._server is not None:
                self._server.close()  # the listening socket is closed at once
                self._server = None
            return self._cut()

        return self._call(close())

    def cut(self) -> int:
        """Reset every open connection (RST, as a dead peer's kernel), keep listening; how
        many sockets were cut: two a connection, the client's side and the target's."""

        async def cut() -> int:
            return self._cut()

        return self._call(cut())

    def _call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)

    def _cut(self) -> int:
        self._generation += 1
        writers, self._writers = self._writers, set()
        for writer in writers:
            _reset(writer)
        return len(writers)

    async def _settle(self) -> None:
        if self._handlers:
            await asyncio.wait(self._handlers, timeout=5)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            await self._relay(reader, writer)
        finally:
            self._handlers.discard(task)

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        generation = self._generation
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            _reset(writer)
            return
        if generation != self._generation:  # cut (or down) while connecting
            _reset(writer)
            _reset(up_writer)
            return
        self.connections += 1
        pair = (writer, up_writer)
        self._writers.update(pair)
        try:
            await asyncio.gather(_pump(reader, up_writer, pair), _pump(up_reader, writer, pair))
        finally:
            self._writers.difference_update(pair)


async def _pump(
    source: asyncio.StreamReader,
    sink: asyncio.StreamWriter,
    pair: tuple[asyncio.StreamWriter, asyncio.StreamWriter],
) -> None:
    with contextlib.suppress(OSError):
        while data := await source.read(65536):
            sink.write(data)
            await sink.drain()
    for side in pair:  # one direction ended: the whole connection goes (no half-open relay)
        side.close()


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with RST: linger 0, and nothing still queued is sent."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
