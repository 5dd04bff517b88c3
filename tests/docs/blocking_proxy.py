"""An HTTP proxy on loopback that forwards nothing: it records what a browser tried to reach
outside and answers 403. Chromium sends every non-loopback request through it."""

from __future__ import annotations

import socket
import threading
from types import TracebackType


class BlockingProxy:
    def __init__(self) -> None:
        self.attempts: list[str] = []  # request lines, e.g. "CONNECT cdn.example:443 HTTP/1.1"
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> BlockingProxy:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._sock.close()
        self._thread.join(timeout=5)

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:  # closed
                return
            with conn:
                conn.settimeout(5)
                try:
                    line = conn.makefile("rb").readline(8192).decode("latin-1").strip()
                    self.attempts.append(line)
                    conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                except OSError:
                    pass
