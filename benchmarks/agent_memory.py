"""The node agent's memory and apply time for a large configuration.

A real `switchyard-agent` process (recording driver) connects to a scripted controller in this
process, which sends one snapshot of N services x M endpoints (one ClusterIP frontend per
service with M backends, as the compiler emits them); the figures are the time from sending
the snapshot to the agent's ACK (decode, reconcile, apply, persist) and the agent's RSS after
it (VmRSS) and at its peak (VmHWM), read from /proc.

  .venv/bin/python benchmarks/agent_memory.py                  # 10k services x 10 endpoints
  .venv/bin/python benchmarks/agent_memory.py --services 1000  # smaller
Prints one JSON document. Target: RSS <= 200 MB at 10k x 10.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from switchyard_contract.nodeconfig import Backend, NodeObject, ServiceFrontend  # noqa: E402
from tests.agent.fake_controller import FakeController  # noqa: E402

TOKEN = "bench-token"


def configuration(services: int, endpoints: int) -> dict[str, NodeObject]:
    objects: dict[str, NodeObject] = {}
    for s in range(services):
        backends = tuple(
            Backend(f"10.{(s * endpoints + e) // 65025 % 250}.{(s * endpoints + e) // 255 % 255}"
                    f".{(s * endpoints + e) % 255 + 1}", 8080)
            for e in range(endpoints)
        )  # fmt: skip
        frontend = ServiceFrontend(
            f"10.96.{s // 250}.{s % 250 + 1}",
            "TCP",
            80,
            "clusterIP",
            backends,
            service=f"bench/svc-{s}",
        )
        objects[frontend.key] = frontend
    return objects


def memory_mb(pid: int) -> dict[str, float]:
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = round(int(rest.split()[0]) / 1024, 1)
    return values


async def measure(services: int, endpoints: int) -> dict[str, Any]:
    objects = configuration(services, endpoints)
    controller = await FakeController(node="n1", token=TOKEN).start()
    with tempfile.TemporaryDirectory(prefix="switchyard-agent-bench-") as state:
        command = [sys.executable, "-m", "switchyard_agent.cli"]
        command += ["--api", controller.target, "--node", "n1", "--token", TOKEN]
        command += ["--drivers", "recording", "--state-dir", state, "--metrics-listen", "off"]
        agent = subprocess.Popen(command)
        try:
            session = await controller.next_session(timeout=60)
            idle = memory_mb(agent.pid)
            started = time.perf_counter()
            session.snapshot(1, objects)
            revision = await session.ack(timeout=600)
            apply_seconds = time.perf_counter() - started
            assert revision == 1
            after = memory_mb(agent.pid)
        finally:
            agent.terminate()
            agent.wait(timeout=30)
            await controller.stop()
    return {
        "services": services,
        "endpoints_per_service": endpoints,
        "objects": len(objects),
        "apply_seconds": round(apply_seconds, 2),
        "objects_per_second": round(len(objects) / apply_seconds, 1),
        "rss_idle_mb": idle["VmRSS"],
        "rss_after_apply_mb": after["VmRSS"],
        "peak_rss_mb": after["VmHWM"],
        "target_rss_mb": 200,
        "target_met": after["VmHWM"] <= 200,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--services", type=int, default=10_000)
    parser.add_argument("--endpoints", type=int, default=10)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(measure(args.services, args.endpoints)), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
