"""Fault-drill parts: the API as a real process (kill -9 is a real crash) and a DNS server that
answers one name with several replicas. Everything listens on loopback."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from dnslib import QTYPE, RR, A, DNSRecord
from dnslib.server import BaseResolver, DNSHandler, DNSServer

from tests.api.support import ADMIN_TOKEN, free_port


class ApiProcess:
    """`switchyard-api serve` in its own process, started (and started again) on the same
    ports. `replica` sets its replica id; `settings` are more SWITCHYARD_* settings (by their
    field names). Nothing else of the caller's SWITCHYARD_* environment reaches it."""

    def __init__(
        self,
        database_url: str,
        log_path: Path,
        *,
        replica: str | None = None,
        host: str = "127.0.0.1",
        grpc_port: int | None = None,
        **settings: Any,
    ) -> None:
        self.name = replica or "the API"
        self.log_path = log_path
        self.http_port = free_port()
        self.grpc_port = grpc_port or free_port()
        self.grpc_host = host
        env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHYARD_")}
        env.update(
            SWITCHYARD_DATABASE_URL=database_url,
            SWITCHYARD_HTTP_LISTEN=f"127.0.0.1:{self.http_port}",
            SWITCHYARD_GRPC_LISTEN=self.grpc_target,
            SWITCHYARD_ADMIN_TOKEN=ADMIN_TOKEN,
        )
        if replica is not None:
            env["SWITCHYARD_REPLICA_ID"] = replica
        env.update({f"SWITCHYARD_{k.upper()}": str(v) for k, v in settings.items()})
        self._env = env
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def grpc_target(self) -> str:
        """The address an agent is given (`--api`)."""
        return f"{self.grpc_host}:{self.grpc_port}"

    def client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=10
        )

    def start(self, ready_timeout: float = 90) -> ApiProcess:
        """Start the process (the log is appended to) and wait until /readyz answers 200."""
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "switchyard_api.cli", "serve"],
                env=self._env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + ready_timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self._log_tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return self
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} not ready in {ready_timeout}s: {self._log_tail()}")
            time.sleep(0.1)

    def kill(self) -> None:
        """kill -9: no shutdown hook runs, no Goodbye, no last status write; open
        transactions die with the connection and the heartbeat just stops."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """Graceful stop (SIGTERM), kill -9 after 10 s; nothing when not running."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def metric(self, name: str) -> float:
        """One sample of /metrics, `name` with its labels as exposed; 0 when absent."""
        for line in httpx.get(f"{self.url}/metrics", timeout=5).text.splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    def _log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


class _Replicas(BaseResolver):  # type: ignore[misc]
    def __init__(self, name: str, addresses: list[str]) -> None:
        self.name = name.rstrip(".") + "."
        self.addresses = addresses

    def resolve(self, request: DNSRecord, handler: DNSHandler) -> DNSRecord:
        reply = request.reply()
        question = request.q
        if str(question.qname) == self.name and question.qtype == QTYPE.A:
            for address in self.addresses:
                reply.add_answer(RR(question.qname, QTYPE.A, rdata=A(address), ttl=1))
        return reply


class _QuietLogger:
    def __getattr__(self, name: str) -> Any:
        return lambda *args: None


class ReplicaDns:
    """A DNS server on loopback that answers `name` with several A records."""

    def __init__(self, name: str, addresses: list[str]) -> None:
        self.name = name
        self.port = free_port()
        self._server = DNSServer(
            _Replicas(name, addresses),
            port=self.port,
            address="127.0.0.1",
            logger=_QuietLogger(),
        )

    def target(self, port: int) -> str:
        """A gRPC target that resolves `name` through this server."""
        return f"dns://127.0.0.1:{self.port}/{self.name}:{port}"

    def __enter__(self) -> ReplicaDns:
        self._server.start_thread()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop()
