"""Compiler benchmark: full compile and per-change latency, printed as JSON.

    .venv/bin/python benchmarks/compile.py           # 50 nodes, 10k services x 10 endpoints,
                                                     # 5k pods, 500 policies
    .venv/bin/python benchmarks/compile.py --quick   # reduced sizes, well under a minute

Per-change figures are medians over repeated single-change batches (Compiler.apply of one
change, including the drain and the per-node delta merge). Explain is one pod -> service flow
(explain_flow: translation, ACL checkpoints with provenance, reply); dry-run is the plan of
one endpoint change (plan_changes: apply, revert, classify per node), the compiler part of a
dryRun=All request (its rolled-back transaction costs the same at any size). The endpoint
change is measured in two clusters that differ only in their number of services (hence
endpoints): the ratio of the two shows whether one endpoint change costs work proportional to
the cluster.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from compiler.factories import (
    endpoint,
    make_endpoints,
    make_namespace,
    make_network_policy,
    make_node,
    make_pod,
    make_service,
)

from switchyard_api.compiler.engine import Compiler
from switchyard_api.compiler.part import IntentChange
from switchyard_api.explain.flow import explain_flow
from switchyard_api.explain.plan import plan_changes
from switchyard_api.explain.request import FlowRequest
from switchyard_api.resources.intent import IntentObject

NAMESPACES = 10
APPS = 100  # distinct app labels


def _ip(base: int, i: int) -> str:
    return f"{base}.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"


def build(nodes: int, pods: int, services: int, per_service: int, policies: int) -> list[Any]:
    objs: list[IntentObject[Any]] = []
    objs += [make_namespace(f"ns{i}", {"team": f"t{i % 3}"}) for i in range(NAMESPACES)]
    objs += [
        make_node(
            f"node{i}",
            [_ip(10, i + 1)],
            [f"10.{128 + i // 256}.{i % 256}.0/24"],
            labels={"role": "lb" if i < 2 else "worker"},
            uplink="eth0",
        )
        for i in range(nodes)
    ]
    pod_objs = []
    for i in range(pods):
        node = i % nodes
        pod_objs.append(
            make_pod(
                f"pod{i}",
                f"node{node}",
                [f"10.{128 + node // 256}.{node % 256}.{i // nodes + 2}"],
                namespace=f"ns{i % NAMESPACES}",
                labels={"app": f"app{i % APPS}"},
                interface=f"memif{i}",
                ports=[{"name": "http", "containerPort": 8080}],
            )
        )
    objs += pod_objs
    for s in range(services):
        ns = f"ns{s % NAMESPACES}"
        node_port = 30000 + s if s % 20 == 0 and s < 2000 else None
        port: dict[str, Any] = {"name": "http", "port": 80, "targetPort": "http" if s % 2 else 8080}
        if node_port:
            port["nodePort"] = node_port
        objs.append(
            make_service(
                f"svc{s}",
                [_ip(172, s + 1)],
                [port],
                namespace=ns,
                type="NodePort" if node_port else "ClusterIP",
            )
        )
        eps = []
        for e in range(per_service):
            pod = pod_objs[(s * per_service + e) * 7 % pods]
            eps.append(
                endpoint(
                    pod.spec.podIPs[0],
                    node=pod.spec.nodeName,
                    pod=pod.name,
                    pod_namespace=pod.namespace,
                )
            )
        objs.append(make_endpoints(f"svc{s}", eps, namespace=ns))
    for p in range(policies):
        ns = f"ns{p % NAMESPACES}"
        objs.append(
            make_network_policy(
                f"pol{p}",
                ns,
                {"matchLabels": {"app": f"app{p % APPS}"}},
                ingress=[
                    {
                        "from": [
                            {"podSelector": {"matchLabels": {"app": f"app{(p + 1) % APPS}"}}},
                            {"namespaceSelector": {"matchLabels": {"team": "t1"}}},
                        ],
                        "ports": [{"port": "http"}, {"port": 9100}],
                    }
                ],
            )
        )
    return objs


def _median_time(compiler: Compiler, changes: list[IntentChange]) -> float:
    times = []
    for change in changes:
        start = time.perf_counter()
        compiler.apply([change])
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def endpoint_changes(objs: list[Any], count: int) -> list[IntentChange]:
    """Flip one endpoint of one service between ready and terminating, back and forth."""
    slices = [o for o in objs if o.kind == "EndpointSlice"]
    out = []
    for i in range(count):
        slice_ = slices[(i * 37) % len(slices)]
        spec = slice_.spec.model_copy(deep=True)
        cond = spec.endpoints[0].conditions
        cond.ready, cond.terminating = False, True
        out.append(
            IntentChange(slice_.ref, IntentObject(slice_.kind, slice_.namespace, slice_.name, spec))
        )
        out.append(IntentChange(slice_.ref, slice_))
    return out


def explain_requests(objs: list[Any], count: int) -> list[FlowRequest]:
    """Pod -> service flows, each through a cnat translation to 10 policy-isolated backends.
    The same flows at every size (the first 100 services are identical in both clusters), so
    the figures compare the cost of one flow, not of different flows."""
    pods = [o for o in objs if o.kind == "Pod"]
    services = [o for o in objs if o.kind == "Service"][:100]
    return [
        FlowRequest.model_validate(
            {
                "from": {
                    "pod": f"{pods[i * 53 % len(pods)].namespace}/{pods[i * 53 % len(pods)].name}"
                },
                "to": {
                    "service": f"{services[i * 31 % len(services)].namespace}/"
                    f"{services[i * 31 % len(services)].name}"
                },
                "port": 80,
            }
        )
        for i in range(count)
    ]


def _median_explain(compiler: Compiler, requests: list[FlowRequest]) -> float:
    for request in requests:  # warm the address-parsing caches, as a running API has them
        explain_flow(compiler, request)
    times = []
    for request in requests:
        start = time.perf_counter()
        explain_flow(compiler, request)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _median_plan(compiler: Compiler, changes: list[IntentChange]) -> float:
    """Each flipped endpoint planned against the unchanged cluster (forward, then back)."""
    times = []
    for flipped, original in zip(changes[::2], changes[1::2], strict=True):
        start = time.perf_counter()
        plan_changes(compiler, [flipped], [original])
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def label_changes(objs: list[Any], count: int) -> list[IntentChange]:
    pods = [o for o in objs if o.kind == "Pod"]
    out = []
    for i in range(count):
        pod = pods[(i * 101) % len(pods)]
        moved = IntentObject(
            pod.kind,
            pod.namespace,
            pod.name,
            pod.spec,
            {"app": f"app{(int(pod.labels['app'][3:]) + 1) % APPS}"},
        )
        out += [IntentChange(pod.ref, moved), IntentChange(pod.ref, pod)]
    return out


def policy_changes(objs: list[Any], count: int) -> list[IntentChange]:
    pols = [o for o in objs if o.kind == "NetworkPolicy"]
    out = []
    for i in range(count):
        pol = pols[(i * 13) % len(pols)]
        spec = pol.spec.model_copy(deep=True)
        spec.ingress[0].ports = None  # widen: all ports
        out += [
            IntentChange(pol.ref, IntentObject(pol.kind, pol.namespace, pol.name, spec)),
            IntentChange(pol.ref, pol),
        ]
    return out


def measure(
    nodes: int, pods: int, services: int, per_service: int, policies: int, repeat: int
) -> dict[str, float]:
    objs = build(nodes, pods, services, per_service, policies)
    compiler = Compiler()
    gc.collect()
    start = time.perf_counter()
    compiler.apply(IntentChange(o.ref, o) for o in objs)
    full = time.perf_counter() - start
    # Long-lived intent and output state: keep the cyclic GC from rescanning it on every
    # collection (what a long-running API process would do after its initial load).
    gc.collect()
    gc.freeze()
    result = {
        "full_compile_seconds": full,
        # Cheap and noisy at ~100 us: many samples for a stable median.
        "endpoint_change_seconds": _median_time(compiler, endpoint_changes(objs, 10 * repeat)),
        "pod_label_change_seconds": _median_time(compiler, label_changes(objs, repeat)),
        "policy_change_seconds": _median_time(compiler, policy_changes(objs, repeat)),
        "explain_flow_seconds": _median_explain(compiler, explain_requests(objs, 10 * repeat)),
        "dry_run_endpoint_change_seconds": _median_plan(
            compiler, endpoint_changes(objs, 10 * repeat)
        ),
    }
    del compiler, objs
    gc.unfreeze()
    gc.collect()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="reduced sizes (< 1 minute)")
    args = parser.parse_args()
    if args.quick:
        nodes, pods, policies, repeat = 10, 1000, 100, 10
        small, large = (100, 10), (1000, 10)
    else:
        nodes, pods, policies, repeat = 50, 5000, 500, 25
        small, large = (100, 10), (10_000, 10)
    s = measure(nodes, pods, small[0], small[1], policies, repeat)
    big = measure(nodes, pods, large[0], large[1], policies, repeat)
    ratio = big["endpoint_change_seconds"] / s["endpoint_change_seconds"]
    report = {
        "quick": args.quick,
        "sizes": {
            "nodes": nodes,
            "pods": pods,
            "policies": policies,
            "services": {"1k": small[0], "100k": large[0]},
            "endpoints": {"1k": small[0] * small[1], "100k": large[0] * large[1]},
        },
        "full_compile_seconds": big["full_compile_seconds"],
        "endpoint_change_seconds": {
            "1k": s["endpoint_change_seconds"],
            "100k": big["endpoint_change_seconds"],
        },
        "endpoint_change_ratio_100k_over_1k": ratio,
        "explain_flow_seconds": {
            "1k": s["explain_flow_seconds"],
            "100k": big["explain_flow_seconds"],
        },
        "dry_run_endpoint_change_seconds": {
            "1k": s["dry_run_endpoint_change_seconds"],
            "100k": big["dry_run_endpoint_change_seconds"],
        },
        "pod_label_change_seconds": big["pod_label_change_seconds"],
        "policy_change_seconds": big["policy_change_seconds"],
        "per_size": {"1k": s, "100k": big},
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
