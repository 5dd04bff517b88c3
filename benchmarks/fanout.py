"""Write -> all-ACK latency of the distribution, for 10, 100 and 1,000 connected agents.

The API runs as a real `switchyard-api serve` process on PostgreSQL with 10k services x 10
endpoints loaded. Agents are asyncio tasks in this process speaking the real gRPC protocol with
a recording dataplane: every delta is decoded into NodeConfig objects and applied to a dict
before the ACK (snapshots at connect are only parsed, not applied: they are set-up, not what is
measured). Each measured write changes one endpoint of one service over REST; the latency runs
from sending the HTTP request until the last agent has sent its ACK for that revision.

  .venv/bin/python benchmarks/fanout.py                 # 10, 100 and 1000 agents
  .venv/bin/python benchmarks/fanout.py --agents 100    # one size
Prints one JSON document.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import grpc
import httpx
import psycopg

from switchyard.v1 import distribution_pb2 as dpb
from switchyard.v1 import distribution_pb2_grpc as dgrpc
from switchyard_api.auth import TokenStore
from switchyard_api.resources.registry import ENDPOINTS, NAMESPACE, NODE, SERVICE
from switchyard_api.store.db import create_store_engine, upgrade_to_head
from switchyard_api.store.store import IntentStore
from switchyard_api.writes import IntentWriter
from switchyard_contract.codec import delta_from_proto

ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
ADMIN_TOKEN = "bench-admin"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def endpoints_doc(service: int, endpoints: int, generation: int) -> dict[str, Any]:
    addresses = [f"10.{100 + service // 250}.{service % 250}.{e + 1}" for e in range(endpoints)]
    if generation:
        addresses[0] = f"10.200.{generation // 250}.{generation % 250 + 1}"
    return {
        "metadata": {"name": f"svc-{service}"},
        "endpoints": [{"addresses": [a], "nodeName": "node-0000"} for a in addresses],
    }


def seed(url: str, nodes: int, services: int, endpoints: int) -> dict[str, str]:
    store = IntentStore(create_store_engine(url))
    writer = IntentWriter(store, (30000, 32767))
    items: list[Any] = [(NAMESPACE, "", {"metadata": {"name": "bench"}, "spec": {}})]
    for n in range(nodes):
        address = f"172.16.{n // 250}.{n % 250 + 1}"
        # Nodes route pod CIDRs over BGP, as in production: without it every node would hold
        # a static route to every other node's pod CIDR (N^2 objects).
        spec = {
            "addresses": [address],
            "podCIDRs": [f"10.{n // 250}.{n % 250}.0/24"],
            "bgp": {"asn": 65000, "routerId": address},
        }
        items.append((NODE, "", {"metadata": {"name": f"node-{n:04d}"}, "spec": spec}))
    writer.bulk_put(items)
    for start in range(0, services, 1000):
        batch: list[Any] = []
        for s in range(start, min(services, start + 1000)):
            ip = f"10.96.{s // 250}.{s % 250 + 1}"
            batch.append(
                (
                    SERVICE,
                    "bench",
                    {
                        "metadata": {"name": f"svc-{s}"},
                        "spec": {"clusterIPs": [ip], "ports": [{"port": 80, "targetPort": 8080}]},
                    },
                )
            )
            batch.append((ENDPOINTS, "bench", endpoints_doc(s, endpoints, 0)))
        writer.bulk_put(batch)
    tokens = TokenStore(store)
    result = {
        f"node-{n:04d}": tokens.create("node", "bench", f"node-{n:04d}")[1] for n in range(nodes)
    }
    store.engine.dispose()
    return result


class SimAgent:
    def __init__(
        self, node: str, token: str, target: str, acks: dict[int, list[float]], sizes: list[int]
    ) -> None:
        self.node, self.token, self.target = node, token, target
        self.acks, self.sizes = acks, sizes
        self.outbox: asyncio.Queue[dpb.AgentMessage | None] = asyncio.Queue()
        self.ready = asyncio.Event()
        self.held: dict[str, object] = {}
        self.busy = 0.0  # seconds spent decoding and applying deltas
        self.revision = 0

    async def _requests(self) -> AsyncIterator[dpb.AgentMessage]:
        yield dpb.AgentMessage(hello=dpb.Hello(node=self.node, agent_version="bench"))
        while (message := await self.outbox.get()) is not None:
            yield message

    async def run(self, channel: grpc.aio.Channel) -> None:
        stub = dgrpc.DistributionStub(channel)
        call = stub.Connect(self._requests(), metadata=[("authorization", f"Bearer {self.token}")])
        async for message in call:
            kind = message.WhichOneof("message")
            if kind == "snapshot":
                if not message.snapshot.continued:
                    self.revision = message.snapshot.revision
                    await self.outbox.put(dpb.AgentMessage(ack=dpb.Ack(revision=self.revision)))
                    self.ready.set()
            elif kind == "delta":
                started = time.perf_counter()
                self.sizes.append(message.ByteSize())
                delta = delta_from_proto(message.delta)
                for key in delta.removals:
                    self.held.pop(key, None)
                self.held.update(delta.upserts)
                self.revision = message.delta.to_revision
                await self.outbox.put(dpb.AgentMessage(ack=dpb.Ack(revision=self.revision)))
                self.acks.setdefault(self.revision, []).append(time.perf_counter())
                self.busy += time.perf_counter() - started
            else:
                return

    async def close(self) -> None:
        await self.outbox.put(None)


async def measure(
    count: int,
    tokens: dict[str, str],
    target: str,
    http: str,
    writes: int,
    services: int,
    endpoints: int,
) -> dict[str, Any]:
    acks: dict[int, list[float]] = {}
    sizes: list[int] = []
    agents = [SimAgent(node, tokens[node], target, acks, sizes) for node in sorted(tokens)[:count]]
    options = [("grpc.max_receive_message_length", 256 * 1024 * 1024)]
    channels = [
        grpc.aio.insecure_channel(target, options=options) for _ in range(max(1, count // 50))
    ]
    tasks = [asyncio.create_task(a.run(channels[i % len(channels)])) for i, a in enumerate(agents)]
    started = time.perf_counter()
    await asyncio.wait_for(asyncio.gather(*(a.ready.wait() for a in agents)), 900)
    connect_seconds = time.perf_counter() - started
    latencies, put_ms, first_ms = [], [], []
    async with httpx.AsyncClient(
        base_url=http, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    ) as client:
        for w in range(writes):
            service = (w * 37) % services
            t0 = time.perf_counter()
            response = await client.put(
                f"/v1/namespaces/bench/services/svc-{service}/endpoints",
                json=endpoints_doc(service, endpoints, w + 1 + count),
            )
            response.raise_for_status()
            put_ms.append((time.perf_counter() - t0) * 1000)
            revision = int(response.json()["metadata"]["resourceVersion"])
            deadline = time.perf_counter() + 30
            while len(acks.get(revision, ())) < count and time.perf_counter() < deadline:
                await asyncio.sleep(0.001)
            times = acks.get(revision, [])
            if len(times) < count:
                raise RuntimeError(f"only {len(times)}/{count} agents acked revision {revision}")
            latencies.append((max(times) - t0) * 1000)
            first_ms.append((min(times) - t0) * 1000)
            await asyncio.sleep(0.05)
    agent_busy_ms = sum(a.busy for a in agents) * 1000 / max(1, writes)
    for agent in agents:
        await agent.close()
    await asyncio.gather(*tasks, return_exceptions=True)
    for channel in channels:
        await channel.close()
    latencies.sort()
    one_change = [s for s in sizes]
    return {
        "p50": round(statistics.median(latencies), 2),
        "p99": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 2),
        "rest_write_p50_ms": round(statistics.median(put_ms), 2),
        "first_ack_p50_ms": round(statistics.median(first_ms), 2),
        "connect_all_seconds": round(connect_seconds, 2),
        # CPU the simulated agents (all in this one process) spend per write decoding and
        # applying deltas: on a real cluster each agent runs on its own node.
        "agents_decode_ms_per_write": round(agent_busy_ms, 1),
        "bytes_per_delta": round(statistics.median(one_change), 1) if one_change else None,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--agents", type=int, help="run only this many agents (default 10, 100, 1000)"
    )
    parser.add_argument("--services", type=int, default=10_000)
    parser.add_argument("--endpoints", type=int, default=10)
    parser.add_argument("--writes", type=int, default=40)
    args = parser.parse_args()
    sizes = [args.agents] if args.agents else [10, 100, 1000]

    name = f"switchyard_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    server = None
    try:
        upgrade_to_head(url)
        t0 = time.perf_counter()
        tokens = seed(url, max(sizes), args.services, args.endpoints)
        seed_seconds = time.perf_counter() - t0
        http_port, grpc_port = free_port(), free_port()
        env = {
            **os.environ,
            "SWITCHYARD_DATABASE_URL": url,
            "SWITCHYARD_HTTP_LISTEN": f"127.0.0.1:{http_port}",
            "SWITCHYARD_GRPC_LISTEN": f"127.0.0.1:{grpc_port}",
            "SWITCHYARD_ADMIN_TOKEN": ADMIN_TOKEN,
            "SWITCHYARD_LOG_LEVEL": "warning",
        }
        server = subprocess.Popen([sys.executable, "-m", "switchyard_api.cli", "serve"], env=env)
        http = f"http://127.0.0.1:{http_port}"
        t0 = time.perf_counter()
        while True:
            with contextlib.suppress(httpx.HTTPError):
                status = httpx.get(
                    f"{http}/v1/status",
                    headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
                    timeout=5,
                ).json()
                if status.get("compiledRevision") == status.get("revision"):
                    break
            if time.perf_counter() - t0 > 600:
                raise RuntimeError("the API did not finish compiling")
            time.sleep(0.5)
        load_seconds = time.perf_counter() - t0
        results = {}
        for count in sizes:
            results[str(count)] = asyncio.run(
                measure(
                    count,
                    tokens,
                    f"127.0.0.1:{grpc_port}",
                    http,
                    args.writes,
                    args.services,
                    args.endpoints,
                )
            )
        report = {
            "services": args.services,
            "endpoints_per_service": args.endpoints,
            "seed_seconds": round(seed_seconds, 1),
            "api_start_and_compile_seconds": round(load_seconds, 1),
            "ack_latency_ms": {k: {"p50": v["p50"], "p99": v["p99"]} for k, v in results.items()},
            "bytes_per_endpoint_change": next(iter(results.values()))["bytes_per_delta"],
            "details": results,
        }
        print(json.dumps(report, indent=2))
        return 0
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    sys.exit(main())
