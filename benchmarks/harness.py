"""What the benchmarks share: a throwaway PostgreSQL database, a real `switchyard-api serve`
process on it, and percentiles."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import httpx
import psycopg

ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
ADMIN_TOKEN = "bench-admin"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


@contextlib.contextmanager
def fresh_database(prefix: str = "switchyard_bench") -> Iterator[str]:
    """A new, empty database on the server of ADMIN_URL; dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class RunningApi:
    process: subprocess.Popen[bytes]
    http: str
    grpc_target: str

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {ADMIN_TOKEN}"}

    def wait_compiled(self, timeout: float = 600) -> float:
        """Seconds until the API answers and has compiled the stored revision."""
        started = time.perf_counter()
        while True:
            with contextlib.suppress(httpx.HTTPError, ValueError):
                status = httpx.get(f"{self.http}/v1/status", headers=self.headers(), timeout=5)
                body = status.json()
                if status.status_code == 200 and body.get("compiledRevision") == body.get(
                    "revision"
                ):
                    return time.perf_counter() - started
            if self.process.poll() is not None:
                raise RuntimeError(f"the API exited with {self.process.returncode}")
            if time.perf_counter() - started > timeout:
                raise RuntimeError("the API did not finish compiling")
            time.sleep(0.2)

    def cpu_seconds(self) -> float:
        """User + system CPU time the API process has used so far (Linux /proc)."""
        with open(f"/proc/{self.process.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@contextlib.contextmanager
def running_api(url: str, **settings: str) -> Iterator[RunningApi]:
    """`switchyard-api serve` on the database at url (migrated by the caller)."""
    http_port, grpc_port = free_port(), free_port()
    env = {
        **os.environ,
        "SWITCHYARD_DATABASE_URL": url,
        "SWITCHYARD_HTTP_LISTEN": f"127.0.0.1:{http_port}",
        "SWITCHYARD_GRPC_LISTEN": f"127.0.0.1:{grpc_port}",
        "SWITCHYARD_ADMIN_TOKEN": ADMIN_TOKEN,
        "SWITCHYARD_LOG_LEVEL": "warning",
        **settings,
    }
    process = subprocess.Popen([sys.executable, "-m", "switchyard_api.cli", "serve"], env=env)
    api = RunningApi(process, f"http://127.0.0.1:{http_port}", f"127.0.0.1:{grpc_port}")
    try:
        yield api
    finally:
        api.stop()
