"""Full apply of N services x M endpoints through the VPP driver and vpp_papi, against the VPP
API emulator, then a resync with nothing changed. Prints JSON.

    .venv/bin/python benchmarks/vpp_apply.py            # 10k services x 10 endpoints
    .venv/bin/python benchmarks/vpp_apply.py --quick    # 1k services, well under a minute

Figures:
  full_apply_seconds      prefetch (pipelined cnat_translation_update) + reconciler.apply_snapshot
  calls_per_second        API requests of the full apply / full_apply_seconds
  resync_seconds          reconciler.resync() of everything (dumps + diff)
  resync_mutating_calls   requests that change VPP during that resync (must be 0)
  sync_calls_per_second   the same frontends one round trip at a time (no prefetch), for scale
  emulator_ceiling_calls_per_second   the emulator alone: the same messages pre-packed and
                          pipelined over a raw socket, replies not decoded (an upper bound)
  pack_us_per_call        the driver's (cached) packing of one translation
  agent_peak_rss_mb       peak RSS of this process: the agent's side of the apply
"""

from __future__ import annotations

import argparse
import json
import resource
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
for extra in (REPO, REPO / "services" / "api", REPO / "services" / "node-agent"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from switchyard_agent.drivers.vpp import VppConnection, VppDriver  # noqa: E402
from switchyard_agent.drivers.vpp.connection import HEADER  # noqa: E402
from switchyard_agent.reconciler import Reconciler  # noqa: E402
from switchyard_contract.nodeconfig import Backend, ServiceFrontend  # noqa: E402
from tests.vppemu.harness import Emulator  # noqa: E402

READ_ONLY = {
    "control_ping",
    "show_version",
    "get_api_json",
    "sockclnt_create",
    "sockclnt_delete",
    "lb_conf_get",
    "cnat_get_snat_addresses",
}


def frontends(services: int, endpoints: int, pods: int, offset: int = 0) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for i in range(offset, offset + services):
        backends = []
        for j in range(endpoints):
            pod = (i * endpoints + j) % pods
            backends.append(
                Backend(f"10.{64 + pod // 65536}.{(pod // 256) % 256}.{pod % 256}", 8080)
            )
        vip = f"10.{96 + i // 65536}.{(i // 256) % 256}.{i % 256}"
        value = ServiceFrontend(
            vip, "TCP", 80, "clusterIP", tuple(backends), service=f"bench/svc-{i}"
        )
        out[value.key] = value
    return out


def mutating(counts: dict[str, int]) -> int:
    return sum(
        n for name, n in counts.items() if name not in READ_ONLY and not name.endswith("_dump")
    )


def ceiling(emu: Emulator, blob: bytes, count: int) -> float:
    """The emulator's own throughput for these messages (fresh memo, raw socket)."""
    emu.restart()
    with socket.socket(socket.AF_UNIX) as sock:
        sock.connect(str(emu.socket_path))
        started = time.perf_counter()
        # Send from another thread: replies must be read meanwhile, or both sides block.
        sender = threading.Thread(target=sock.sendall, args=(blob,), daemon=True)
        sender.start()
        got, buf = 0, b""
        while got < count:
            buf += sock.recv(1 << 20)
            while len(buf) >= 16:
                size = HEADER.unpack_from(buf)[1]
                if len(buf) < 16 + size:
                    break
                buf = buf[16 + size :]
                got += 1
        elapsed = time.perf_counter() - started
        sender.join()
        return count / elapsed


def run(services: int, endpoints: int, pods: int, sync_sample: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="vpp-bench-") as tmp:
        emu = Emulator(Path(tmp)).start()
        try:
            conn = VppConnection(str(emu.socket_path), read_timeout=30.0)
            conn.connect()
            driver = VppDriver(conn, Path(tmp) / "state")
            reconciler = Reconciler(driver.descriptors)
            reconciler.resync()  # agent start: an empty VPP
            desired = frontends(services, endpoints, pods)

            emu.reset_counts()
            started = time.perf_counter()
            driver.prefetch(desired, snapshot=True)
            prefetch_seconds = time.perf_counter() - started
            result = reconciler.apply_snapshot(1, desired)
            full = time.perf_counter() - started
            assert result.ok and result.created == services, result
            calls = sum(emu.call_counts().values())

            emu.reset_counts()
            started = time.perf_counter()
            resync = reconciler.resync()
            resync_seconds = time.perf_counter() - started
            assert resync.ok, resync
            resync_counts = emu.call_counts()

            # For scale: the one-call-at-a-time path, on other services.
            extra = frontends(sync_sample, endpoints, pods, offset=services)
            both = {**desired, **extra}
            emu.reset_counts()
            started = time.perf_counter()
            assert reconciler.apply_snapshot(2, both).ok
            sync_seconds = time.perf_counter() - started
            sync_calls = emu.call_counts().get("cnat_translation_update", 0)

            encode = driver.frontends._encode
            started = time.perf_counter()
            for value in desired.values():
                encode(value)(1)
            pack_us = (time.perf_counter() - started) / services * 1e6

            state = emu.state()
            assert len(state["cnat"]["translations"]) == services + sync_sample
            blob = b"".join(
                HEADER.pack(0, len(p), 0) + p
                for p in (encode(v)(i + 1) for i, v in enumerate(desired.values()))
            )
            conn.disconnect()
            emulator_ceiling = ceiling(emu, blob, len(desired))
        finally:
            emu.stop()
    return {
        "services": services,
        "endpoints_per_service": endpoints,
        "distinct_endpoints": min(pods, services * endpoints),
        "full_apply_seconds": round(full, 3),
        "prefetch_seconds": round(prefetch_seconds, 3),
        "reconciler_seconds": round(full - prefetch_seconds, 3),
        "calls": calls,
        "calls_per_second": round(calls / full),
        "resync_seconds": round(resync_seconds, 3),
        "resync_calls": sum(resync_counts.values()),
        "resync_mutating_calls": mutating(resync_counts),
        "sync_calls_per_second": round(sync_calls / sync_seconds) if sync_seconds else None,
        "emulator_ceiling_calls_per_second": round(emulator_ceiling),
        "pack_us_per_call": round(pack_us, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--services", type=int, default=10_000)
    parser.add_argument("--endpoints", type=int, default=10)
    parser.add_argument(
        "--pods",
        type=int,
        default=0,
        help="distinct endpoint addresses (default: every endpoint distinct)",
    )
    parser.add_argument("--sync-sample", type=int, default=500)
    parser.add_argument("--quick", action="store_true", help="1,000 services")
    args = parser.parse_args(argv)
    services = 1_000 if args.quick else args.services
    pods = args.pods or services * args.endpoints
    sample = min(args.sync_sample, 200) if args.quick else args.sync_sample
    report = run(services, args.endpoints, pods, sample)
    # This process is the agent's side (driver, reconciler, desired and actual state); the
    # emulator runs in its own process.
    report["agent_peak_rss_mb"] = round(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
    )
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
