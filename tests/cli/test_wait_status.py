"""apply --wait, wait --for=converged and status with real agents (recording drivers) on a real
server over gRPC: progress of nodes converged, success only when every node applied the
object's resourceVersion, exit 1 naming the node and object on a NACK or a timeout."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import httpx

from tests.waiting import wait_for

from .cluster import Cluster

FRONTEND = "frontend/TCP/10.96.0.10/80"
SERVICE = """\
kind: Service
metadata: {name: web, labels: {app: web}}
spec:
  clusterIPs: [10.96.0.10]
  ports: [{port: 80, targetPort: 8080}]
---
kind: EndpointSlice
metadata: {name: web}
addressType: IPv4
endpoints: [{addresses: [10.1.1.5], nodeName: n1}]
ports: [{port: 8080}]
"""


def progress(done: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in done.stderr.splitlines() if "nodes converged" in line]


def connected(http: httpx.Client, *nodes: str) -> bool:
    status = {n["name"]: n for n in http.get("/v1/status").json()["nodes"]}
    return all(status[n]["connected"] for n in nodes)


def test_apply_wait_shows_progress_until_every_node_applied(
    cluster: Cluster, tmp_path: Path
) -> None:
    for index, name in enumerate(("n1", "n2"), start=1):
        cluster.fleet.start(cluster.node(name, index), cluster.tokens[name], cluster.api)
    manifest = tmp_path / "web.yaml"
    manifest.write_text(SERVICE)
    done = cluster.cli("apply", "-f", str(manifest), "--wait", "--timeout", "60")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "service/web created",
        "endpointslice/web created",
        "service/web converged",
        "endpointslice/web converged",
    ]
    assert progress(done)[-1] == "endpointslice/web: 2/2 nodes converged"
    service = cluster.http.get("/v1/namespaces/default/services/web").json()
    assert service["status"]["appliedNodes"] == 2  # what wait reported is what the API says
    again = cluster.cli("wait", "--for=converged", "svc/web", "--timeout", "10")
    assert again.returncode == 0 and again.stdout == "service/web converged\n"
    table = cluster.cli.ok("status").splitlines()
    assert table[1].split() == ["NODE", "CONNECTED", "APPLIED", "LAG", "LAST-ERROR", "PENDING"]
    rows = [line.split() for line in table[3:]]
    assert [(r[0], r[1], r[3], r[4]) for r in rows] == [
        ("n1", "yes", "0", "-"),
        ("n2", "yes", "0", "-"),
    ]


def test_a_nack_ends_the_wait_with_the_node_and_the_object(
    cluster: Cluster, tmp_path: Path
) -> None:
    running = cluster.fleet.start(cluster.node("n1", 1), cluster.tokens["n1"], cluster.api)
    running.driver.vpp.fail(key=FRONTEND, message="VPP refused the translation")
    manifest = tmp_path / "web.yaml"
    manifest.write_text(SERVICE)
    done = cluster.cli("apply", "-f", str(manifest), "--wait", "--timeout", "60")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    # The frontend needs both objects; whichever is waited for when the NACK arrives is named.
    assert re.match(
        rf"switchyard: error: (service|endpointslice)/web: node n1 rejected {FRONTEND}: ", last
    ), last
    assert "VPP refused the translation" in last
    assert "endpointslice/web converged" not in done.stdout
    status = cluster.cli.ok("status")
    assert FRONTEND in status  # the last error names the object


def test_a_node_that_never_applies_times_out_and_is_named(cluster: Cluster, tmp_path: Path) -> None:
    cluster.fleet.start(cluster.node("n1", 1), cluster.tokens["n1"], cluster.api)
    cluster.node("n2", 2)  # no agent: it never applies anything
    wait_for(lambda: connected(cluster.http, "n1"), what="n1 connected")
    manifest = tmp_path / "web.yaml"
    manifest.write_text(SERVICE.split("---")[0])
    done = cluster.cli("apply", "-f", str(manifest), "--wait", "--timeout", "5")
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert "service/web: timed out after 5s with 1/2 nodes" in last, done.stderr
    assert last.endswith("waiting for n2")
    assert "converged" not in done.stdout
