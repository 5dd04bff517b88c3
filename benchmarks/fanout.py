"""Write -> all-ACK latency of the distribution, for 10, 100 and 1,000 connected agents.

The API runs as a real `switchyard-api serve` process on PostgreSQL with 10k services x 10
endpoints loaded. The simulated agents run in separate processes (`--processes`, default 4), so
they share neither the server's event loop nor this process's: each speaks the real gRPC
protocol with a recording dataplane, decoding every delta into NodeConfig objects applied to a
dict before the ACK (snapshots at connect are only parsed: they are set-up, not what is
measured). Each measured write changes one endpoint of one service over REST; the latency runs
from sending the HTTP request until the last agent has sent its ACK for that revision (one
monotonic clock for all processes). The server's own CPU time over the measured writes is
reported per write and per agent, and (with several sizes) per agent added beyond the smallest
size, which leaves out the fixed cost of each write.

  .venv/bin/python benchmarks/fanout.py                 # 10, 100 and 1000 agents
  .venv/bin/python benchmarks/fanout.py --agents 100    # one size
Prints one JSON document.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import statistics
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import httpx

from switchyard.v1 import distribution_pb2 as dpb
from switchyard.v1 import distribution_pb2_grpc as dgrpc
from switchyard_api.auth import TokenStore
from switchyard_api.resources.registry import ENDPOINTS, NAMESPACE, NODE, SERVICE
from switchyard_api.store.db import create_store_engine, upgrade_to_head
from switchyard_api.store.store import IntentStore
from switchyard_api.writes import IntentWriter
from switchyard_contract.codec import delta_from_proto

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import RunningApi, fresh_database, percentile, running_api


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
    """One agent speaking the real protocol; its ACK times go to `acks` as (revision, time)."""

    def __init__(self, node: str, token: str, acks: Any) -> None:
        self.node, self.token, self.acks = node, token, acks
        self.outbox: asyncio.Queue[dpb.AgentMessage | None] = asyncio.Queue()
        self.ready = asyncio.Event()
        self.held: dict[str, object] = {}
        self.sizes: list[int] = []
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
                self.sizes.append(message.ByteSize())
                delta = delta_from_proto(message.delta)
                for key in delta.removals:
                    self.held.pop(key, None)
                self.held.update(delta.upserts)
                self.revision = message.delta.to_revision
                await self.outbox.put(dpb.AgentMessage(ack=dpb.Ack(revision=self.revision)))
                self.acks.put((self.revision, time.monotonic()))
            else:
                return


def agent_process(target: str, tokens: dict[str, str], acks: Any, replies: Any, stop: Any) -> None:
    """A process of simulated agents: connects them all, says "ready", runs until "stop"."""

    async def run() -> None:
        agents = [SimAgent(node, token, acks) for node, token in sorted(tokens.items())]
        options = [("grpc.max_receive_message_length", 256 * 1024 * 1024)]
        channels = [
            grpc.aio.insecure_channel(target, options=options)
            for _ in range(max(1, len(agents) // 50))
        ]
        tasks = [
            asyncio.create_task(a.run(channels[i % len(channels)])) for i, a in enumerate(agents)
        ]
        await asyncio.wait_for(asyncio.gather(*(a.ready.wait() for a in agents)), 900)
        cpu = time.process_time()
        replies.put(("ready", 0.0, 0))
        await asyncio.to_thread(stop.wait)
        sizes = [size for a in agents for size in a.sizes]
        replies.put(("done", time.process_time() - cpu, int(statistics.median(sizes or [0]))))
        for agent in agents:
            await agent.outbox.put(None)
        await asyncio.gather(*tasks, return_exceptions=True)
        for channel in channels:
            await channel.close()

    asyncio.run(run())


def measure(
    count: int,
    tokens: dict[str, str],
    api: RunningApi,
    writes: int,
    services: int,
    endpoints: int,
    processes: int,
) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    acks = context.Queue()
    replies = context.Queue()
    stop = context.Event()
    nodes = sorted(tokens)[:count]
    groups = [nodes[i::processes] for i in range(min(processes, count))]
    workers = [
        context.Process(
            target=agent_process,
            args=(api.grpc_target, {n: tokens[n] for n in group}, acks, replies, stop),
        )
        for group in groups
    ]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for _ in workers:
        kind, _, _ = replies.get(timeout=900)
        assert kind == "ready"
    connect_seconds = time.perf_counter() - started
    seen: dict[int, list[float]] = {}
    latencies, put_ms, first_ms = [], [], []
    cpu_before = api.cpu_seconds()
    with httpx.Client(base_url=api.http, headers=api.headers()) as client:
        for w in range(writes):
            service = (w * 37) % services
            t0 = time.monotonic()
            response = client.put(
                f"/v1/namespaces/bench/services/svc-{service}/endpoints",
                json=endpoints_doc(service, endpoints, w + 1 + count),
            )
            response.raise_for_status()
            put_ms.append((time.monotonic() - t0) * 1000)
            revision = int(response.json()["metadata"]["resourceVersion"])
            deadline = time.monotonic() + 30
            while len(seen.get(revision, ())) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    got = len(seen.get(revision, ()))
                    raise RuntimeError(f"only {got}/{count} agents acked revision {revision}")
                rev, at = acks.get(timeout=remaining)
                seen.setdefault(rev, []).append(at)
            times = seen[revision]
            latencies.append((max(times) - t0) * 1000)
            first_ms.append((min(times) - t0) * 1000)
            time.sleep(0.05)
    server_cpu = api.cpu_seconds() - cpu_before
    stop.set()
    agents_cpu, sizes = 0.0, []
    for _ in workers:
        kind, cpu, size = replies.get(timeout=120)
        agents_cpu += cpu
        sizes.append(size)
    for worker in workers:
        worker.join(timeout=60)
    return {
        "p50": round(statistics.median(latencies), 2),
        "p99": round(percentile(latencies, 0.99), 2),
        "rest_write_p50_ms": round(statistics.median(put_ms), 2),
        "first_ack_p50_ms": round(statistics.median(first_ms), 2),
        "connect_all_seconds": round(connect_seconds, 2),
        # The API process's own CPU (user + system) per write and per agent: the cost of
        # fanning one change out and taking its ACKs.
        "server_cpu_us_per_write_per_agent": round(server_cpu * 1e6 / (writes * count), 1),
        "server_cpu_ms_per_write": round(server_cpu * 1000 / writes, 2),
        # CPU of the agent processes per write (on a real cluster each runs on its own node).
        "agents_cpu_ms_per_write": round(agents_cpu * 1000 / writes, 1),
        "agent_processes": len(workers),
        "bytes_per_delta": statistics.median(sizes) if sizes else None,
    }


def marginal_cpu(results: dict[str, dict[str, Any]]) -> dict[str, float]:
    sizes = sorted(int(k) for k in results)
    base = sizes[0]
    base_ms = results[str(base)]["server_cpu_ms_per_write"]
    return {
        str(n): round((results[str(n)]["server_cpu_ms_per_write"] - base_ms) * 1000 / (n - base), 1)
        for n in sizes[1:]
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
    parser.add_argument(
        "--processes", type=int, default=4, help="processes the simulated agents run in"
    )
    args = parser.parse_args()
    sizes = [args.agents] if args.agents else [10, 100, 1000]
    with fresh_database() as url:
        upgrade_to_head(url)
        t0 = time.perf_counter()
        tokens = seed(url, max(sizes), args.services, args.endpoints)
        seed_seconds = time.perf_counter() - t0
        with running_api(url) as api:
            load_seconds = api.wait_compiled()
            results = {
                str(count): measure(
                    count,
                    tokens,
                    api,
                    args.writes,
                    args.services,
                    args.endpoints,
                    args.processes,
                )
                for count in sizes
            }
    report = {
        "services": args.services,
        "endpoints_per_service": args.endpoints,
        "seed_seconds": round(seed_seconds, 1),
        "api_start_and_compile_seconds": round(load_seconds, 1),
        "ack_latency_ms": {k: {"p50": v["p50"], "p99": v["p99"]} for k, v in results.items()},
        "server_cpu_us_per_write_per_agent": {
            k: v["server_cpu_us_per_write_per_agent"] for k, v in results.items()
        },
        # What one more agent costs: the growth of the server's CPU per write from the smallest
        # size, per added agent. The per-agent figure above also carries the fixed cost of each
        # write (REST, commit, compile), which at 1,000 agents alone is tens of microseconds.
        "server_cpu_us_per_added_agent": marginal_cpu(results),
        "bytes_per_endpoint_change": next(iter(results.values()))["bytes_per_delta"],
        "details": results,
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
