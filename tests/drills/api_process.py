"""`switchyard-api serve` as a real process that a drill can kill -9 and start again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.api.support import ADMIN_TOKEN, free_port


class ApiProcess:
    def __init__(self, database_url: str, log_path: Path) -> None:
        self.database_url = database_url
        self.http_port = free_port()
        self.grpc_port = free_port()
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def grpc_address(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    def client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=10
        )

    def start(self, ready_timeout: float = 90) -> None:
        env = {
            **os.environ,
            "SWITCHYARD_DATABASE_URL": self.database_url,
            "SWITCHYARD_HTTP_LISTEN": f"127.0.0.1:{self.http_port}",
            "SWITCHYARD_GRPC_LISTEN": self.grpc_address,
            "SWITCHYARD_ADMIN_TOKEN": ADMIN_TOKEN,
        }
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "switchyard_api.cli", "serve"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the API exited: {self.log_path.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("the API did not become ready")

    def kill(self) -> None:
        """kill -9: no shutdown hook runs, open transactions die with the connection."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
