"""Fault-drill parts: API replicas as real processes and a DNS server that answers one name
with several replicas. Everything listens on loopback."""

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
    """`switchyard-api serve` in its own process (kill -9 is a real crash)."""

    def __init__(
        self,
        database_url: str,
        replica: str,
        log_dir: Path,
        *,
        host: str = "127.0.0.1",
        grpc_port: int | None = None,
        **settings: Any,
    ) -> None:
        self.replica = replica
        self.http_port = free_port()
        self.grpc_port = grpc_port or free_port()
        self.grpc_host = host
        self.log_path = log_dir / f"{replica}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHYARD_")}
        env.update(
            SWITCHYARD_DATABASE_URL=database_url,
            SWITCHYARD_HTTP_LISTEN=f"127.0.0.1:{self.http_port}",
            SWITCHYARD_GRPC_LISTEN=f"{host}:{self.grpc_port}",
            SWITCHYARD_ADMIN_TOKEN=ADMIN_TOKEN,
            SWITCHYARD_REPLICA_ID=replica,
            SWITCHYARD_LOG_LEVEL="warning",
        )
        env.update({f"SWITCHYARD_{k.upper()}": str(v) for k, v in settings.items()})
        self._env = env
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def grpc_target(self) -> str:
        return f"{self.grpc_host}:{self.grpc_port}"

    def start(self, timeout: float = 30) -> ApiProcess:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "switchyard_api.cli", "serve"],
                env=self._env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.replica} exited: {self.log_path.read_text()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return self
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.replica} not ready: {self.log_path.read_text()}")
            time.sleep(0.1)

    def kill(self) -> None:
        """kill -9: no Goodbye, no last status write, the heartbeat just stops."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=10
        )

    def metric(self, name: str) -> float:
        for line in httpx.get(f"{self.url}/metrics", timeout=5).text.splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                return float(line.rsplit(" ", 1)[1])
        return 0.0


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
