"""Issue 15: node status names each pending object and what it waits for. A real agent
(recording driver) on a real API (PostgreSQL, gRPC) gets a Pod whose interface VPP does not
have yet: its objects pend on that interface; REST and `switchyard describe node` say so; once
the interface is plugged the list empties."""

from __future__ import annotations

from typing import Any

import httpx

from tests.waiting import wait_for

from .cluster import Cluster

TAP = "tap-web1"
TAP_KEY = f"vpp-interface/{TAP}"
POD = {
    "metadata": {"labels": {"app": "web"}},
    "spec": {"nodeName": "n1", "podIPs": ["10.1.1.5"], "interface": TAP},
}
# Selects the pod: its ACL binding waits for the pod's interface object, itself pending.
POLICY = {"spec": {"podSelector": {"matchLabels": {"app": "web"}}, "policyTypes": ["Ingress"]}}


def n1(http: httpx.Client) -> dict[str, Any]:
    status: dict[str, Any] = http.get("/v1/nodes/n1").json()["status"]
    return status


def test_pending_objects_name_the_interface_they_wait_for_until_it_appears(
    cluster: Cluster,
) -> None:
    running = cluster.fleet.start(
        cluster.node("n1", 1), cluster.tokens["n1"], cluster.api, probe_interval=0.2
    )
    cluster.http.put("/v1/namespaces/default/pods/web-1", json=POD).raise_for_status()
    policy = cluster.http.put("/v1/namespaces/default/network-policies/deny", json=POLICY)
    policy.raise_for_status()

    status = wait_for(
        lambda: (s := n1(cluster.http))["pendingObjects"] == 2 and s,
        timeout=20,
        what="the pod's objects reported pending",
    )
    pending = status["pending"]
    assert pending == [
        {
            "key": "acl-binding/tap-web1",
            "waitingFor": ["interface/tap-web1"],
            "reason": "waiting for interface/tap-web1 (itself pending)",
        },
        {
            "key": "interface/tap-web1",
            "waitingFor": [TAP_KEY],
            "reason": f"waiting for {TAP_KEY} (the dataplane does not have it yet)",
        },
    ]
    assert status["acked"] is True  # waiting for an outside interface is the normal order
    # The cluster view says the same.
    nodes = {n["name"]: n for n in cluster.http.get("/v1/status").json()["nodes"]}
    assert nodes["n1"]["pending"] == pending

    table = cluster.cli.ok("status").splitlines()
    row = next(line.split() for line in table if line.startswith("n1 "))
    assert row[-1] == str(len(pending))
    assert "switchyard describe node NAME" in table[-1]
    described = cluster.cli.ok("describe", "node", "n1")
    assert f"Pending:          {len(pending)} object(s)" in described
    lines = described.splitlines()
    for item in pending:
        at = lines.index(f"  {item['key']}")
        assert lines[at + 1] == f"    waits for:  {', '.join(item['waitingFor'])}"
        assert lines[at + 2] == f"    reason:     {item['reason']}"

    running.driver.vpp.plug(TAP)  # the CNI plugin creates the interface in VPP
    wait_for(
        lambda: (s := n1(cluster.http))["pendingObjects"] == 0 and s["pending"] == [],
        timeout=20,
        what="the pending list emptied",
    )
    assert {p["key"] for p in pending} <= running.held().keys()  # now applied
    described = cluster.cli.ok("describe", "node", "n1")
    assert "Pending:          <none>" in described
    assert "describe node" not in cluster.cli.ok("status")
