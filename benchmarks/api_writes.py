"""REST write throughput and latency on PostgreSQL, next to PostgreSQL's own single-row upsert
rate (pgbench) on the same server in the same run.

A real `switchyard-api serve` process (one uvicorn worker, as deployed) on a fresh database;
the clients are asyncio tasks in this process, each with its own HTTP connection, sending
requests back to back for a fixed time:

* single-object writes: PUT of a new Pod per request, at 1, 16 and 64 concurrent clients;
* bulk endpoints: PUT of whole EndpointSlices of 100 endpoints (each request replaces a
  service's slice with 100 new addresses), at 16 clients;
* pgbench: `INSERT … ON CONFLICT DO UPDATE` of one row by random key, 16 clients.

  .venv/bin/python benchmarks/api_writes.py               # ~1.5 min
  .venv/bin/python benchmarks/api_writes.py --seconds 5   # shorter runs
Prints one JSON document. Needs PostgreSQL (TEST_POSTGRES_ADMIN_URL) and pgbench.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import ADMIN_TOKEN, fresh_database, percentile, running_api

from switchyard_api.store.db import upgrade_to_head

UPSERT_SCRIPT = """\\set k random(1, 1000000)
INSERT INTO bench_upsert (k, v) VALUES (:k, 1)
  ON CONFLICT (k) DO UPDATE SET v = bench_upsert.v + 1;
"""


def pgbench_upsert_tps(url: str, clients: int, seconds: int) -> float:
    pgbench = shutil.which("pgbench")
    if pgbench is None:
        raise RuntimeError("pgbench not found (apt-get install postgresql-client)")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_upsert (k integer PRIMARY KEY, v bigint)")
    with tempfile.NamedTemporaryFile("w", suffix=".sql") as script:
        script.write(UPSERT_SCRIPT)
        script.flush()
        result = subprocess.run(
            [
                pgbench,
                "-n",
                "-c",
                str(clients),
                "-j",
                "2",
                "-T",
                str(seconds),
                "-f",
                script.name,
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    found = re.search(r"tps = ([0-9.]+)", result.stdout)
    if found is None:
        raise RuntimeError(f"unexpected pgbench output: {result.stdout}")
    return float(found.group(1))


class Counter:
    def __init__(self) -> None:
        self.next = 0

    def take(self) -> int:
        self.next += 1
        return self.next


def pod_request(n: int) -> tuple[str, dict[str, Any]]:
    name = f"pod-{n}"
    ip = f"10.{64 + n // 65025}.{(n // 255) % 255}.{n % 255 + 1}"
    body = {
        "metadata": {"name": name, "labels": {"app": f"app-{n % 50}"}},
        "spec": {"nodeName": "node-0", "podIPs": [ip], "interface": f"tap{n}"},
    }
    return f"/v1/namespaces/bench/pods/{name}", body


def slice_request(n: int, services: int) -> tuple[str, dict[str, Any]]:
    service = n % services
    base = n * 100
    addresses = [
        f"10.{128 + (base + e) // 65025}.{((base + e) // 255) % 255}.{(base + e) % 255 + 1}"
        for e in range(100)
    ]
    body = {
        "metadata": {"name": f"svc-{service}"},
        "addressType": "IPv4",
        "endpoints": [{"addresses": [a], "nodeName": "node-0"} for a in addresses],
        "ports": [{"port": 8080}],
    }
    return f"/v1/namespaces/bench/services/svc-{service}/endpoints", body


async def run_clients(
    http: str, clients: int, seconds: float, make: Any, counter: Counter
) -> dict[str, Any]:
    latencies: list[float] = []
    errors: dict[str, int] = {}
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        async with httpx.AsyncClient(
            base_url=http, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=60
        ) as session:
            while time.perf_counter() < deadline:
                path, body = make(counter.take())
                started = time.perf_counter()
                response = await session.put(path, json=body)
                latencies.append(time.perf_counter() - started)
                if response.status_code >= 300:
                    key = str(response.status_code)
                    errors[key] = errors.get(key, 0) + 1

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    ok = len(latencies) - sum(errors.values())
    return {
        "clients": clients,
        "requests": len(latencies),
        "writes_per_second": round(ok / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "errors": errors,
    }


async def seed(http: str, services: int) -> None:
    async with httpx.AsyncClient(
        base_url=http, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=60
    ) as session:
        for path, body in [
            ("/v1/namespaces/bench", {"metadata": {"name": "bench"}, "spec": {}}),
            (
                "/v1/nodes/node-0",
                {"metadata": {"name": "node-0"}, "spec": {"addresses": ["192.0.2.1"]}},
            ),
        ]:
            (await session.put(path, json=body)).raise_for_status()
        for s in range(services):
            body = {
                "metadata": {"name": f"svc-{s}"},
                "spec": {
                    "clusterIPs": [f"10.96.{s // 250}.{s % 250 + 1}"],
                    "ports": [{"port": 80, "targetPort": 8080}],
                },
            }
            response = await session.put(f"/v1/namespaces/bench/services/svc-{s}", json=body)
            response.raise_for_status()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10, help="duration of each run")
    parser.add_argument("--services", type=int, default=200, help="services for bulk endpoints")
    args = parser.parse_args()
    with fresh_database() as url:
        upgrade_to_head(url)
        pgbench_tps = pgbench_upsert_tps(url, 16, int(args.seconds))
        with running_api(url) as api:
            api.wait_compiled()
            asyncio.run(seed(api.http, args.services))
            counter = Counter()
            single = {}
            for clients in (1, 16, 64):
                cpu = api.cpu_seconds()
                run = asyncio.run(
                    run_clients(api.http, clients, args.seconds, pod_request, counter)
                )
                run["api_cpu_ms_per_write"] = round(
                    (api.cpu_seconds() - cpu) * 1000 / max(1, run["requests"]), 2
                )
                single[str(clients)] = run
            bulk_counter = Counter()
            bulk = asyncio.run(
                run_clients(
                    api.http,
                    16,
                    args.seconds,
                    lambda n: slice_request(n, args.services),
                    bulk_counter,
                )
            )
    at16 = single["16"]["writes_per_second"]
    report = {
        "pgbench_upsert_tps_16_clients": round(pgbench_tps, 1),
        "single_object_writes": single,
        "ratio_to_pgbench_at_16_clients": round(at16 / pgbench_tps, 4),
        "bulk_endpoints": {
            **bulk,
            "endpoints_per_second": round(bulk["writes_per_second"] * 100, 1),
        },
        "targets": {
            "writes_per_second_at_16": {"target": 1000, "met": at16 >= 1000},
            "ratio_to_pgbench": {"target": 0.15, "met": at16 / pgbench_tps >= 0.15},
            "p99_ms_at_16": {"target": 50, "met": single["16"]["p99_ms"] <= 50},
            "bulk_endpoints_per_second": {
                "target": 20000,
                "met": bulk["writes_per_second"] * 100 >= 20000,
            },
        },
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
