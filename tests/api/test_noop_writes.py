"""A write whose result equals the stored object takes no revision: same resourceVersion and
ETag, no change-log row, no NOTIFY, nothing sent to any agent."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from switchyard.v1 import distribution_pb2 as dpb
from tests.distribution.test_server import RawAgent, grpc_port

from .support import LiveServer
from .test_cli import run

MERGE = {"Content-Type": "application/merge-patch+json"}


def manifest() -> list[dict[str, Any]]:
    """50 objects: a namespace, 2 nodes, 20 pods, 15 services (selectors), 12 policies."""
    objects: list[dict[str, Any]] = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}
    ]
    for index in (1, 2):
        objects.append(
            {
                "kind": "Node",
                "metadata": {"name": f"n{index}"},
                "spec": {"addresses": [f"192.0.2.{index}"], "podCIDRs": [f"10.1.{index}.0/24"]},
            }
        )
    for index in range(20):
        objects.append(
            {
                "kind": "Pod",
                "metadata": {
                    "name": f"p{index}",
                    "namespace": "shop",
                    "labels": {"app": f"a{index % 15}"},
                },
                "spec": {
                    "nodeName": f"n{index % 2 + 1}",
                    "podIPs": [f"10.1.{index % 2 + 1}.{index + 10}"],
                },
            }
        )
    for index in range(15):
        objects.append(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": f"s{index}", "namespace": "shop"},
                "spec": {
                    "selector": {"app": f"a{index}"},
                    "ports": [{"port": 80, "targetPort": 8080}],
                },
            }
        )
    for index in range(12):
        objects.append(
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "NetworkPolicy",
                "metadata": {"name": f"np{index}", "namespace": "shop"},
                "spec": {
                    "podSelector": {"matchLabels": {"app": f"a{index}"}},
                    "policyTypes": ["Ingress"],
                },
            }
        )
    assert len(objects) == 50
    return objects


def revision(client: httpx.Client) -> int:
    value: int = client.get("/v1/status").json()["revision"]
    return value


def events_after(client: httpx.Client, since: int) -> list[dict[str, Any]]:
    """Change-log rows after `since`, read until the stream has been quiet for a moment."""
    seen: list[dict[str, Any]] = []
    try:
        with client.stream("GET", "/v1/events", params={"since": since}, timeout=2) as stream:
            for line in stream.iter_lines():
                if line.startswith("data: "):
                    seen.append(json.loads(line[6:]))
    except httpx.ReadTimeout:
        pass
    return seen


def test_no_op_put_and_patch_keep_version_etag_and_log(database_url: str) -> None:
    with LiveServer(database_url) as server, server.client() as client:
        client.put("/v1/namespaces/shop", json={}).raise_for_status()
        body = {"metadata": {"labels": {"a": "b"}}, "spec": {"ports": [{"port": 80}]}}
        first = client.put("/v1/namespaces/shop/services/web", json=body)
        assert first.status_code == 201
        start = revision(client)
        again = client.put("/v1/namespaces/shop/services/web", json=body)
        patched = client.patch(
            "/v1/namespaces/shop/services/web",
            json={"metadata": {"labels": {"a": "b"}}},
            headers=MERGE,
        )
        # The allocated clusterIP given back explicitly is the same object too.
        explicit = {
            **body,
            "spec": {**body["spec"], "clusterIPs": first.json()["spec"]["clusterIPs"]},
        }
        echoed = client.put("/v1/namespaces/shop/services/web", json=explicit)
        for response in (again, patched, echoed):
            assert response.status_code == 200, response.text
            assert response.headers["ETag"] == first.headers["ETag"]
            assert response.json()["metadata"] == first.json()["metadata"]
        assert revision(client) == start
        assert events_after(client, start) == []
        # A real change still takes a revision.
        client.patch(
            "/v1/namespaces/shop/services/web",
            json={"metadata": {"labels": {"a": "c"}}},
            headers=MERGE,
        ).raise_for_status()
        assert revision(client) == start + 1


def test_reapplying_a_50_object_file_changes_nothing_and_agents_get_nothing(
    fresh_postgres_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "cluster.json"
    path.write_text(json.dumps(manifest()))
    with LiveServer(fresh_postgres_url) as server, server.client() as client:

        def apply() -> None:
            result = run(
                "switchyard_cli.main",
                "--api",
                server.url,
                "--token",
                "test-admin-token",
                "apply",
                "-f",
                str(path),
            )
            assert result.returncode == 0, result.stdout[-2000:] + result.stderr

        apply()
        applied = revision(client)
        versions = {
            item["metadata"]["name"]: item["metadata"]["resourceVersion"]
            for item in client.get("/v1/namespaces/shop/services").json()["items"]
        }
        token = client.post("/v1/tokens", json={"role": "node", "node": "n1"}).json()["token"]

        async def scenario() -> None:
            agent = RawAgent(grpc_port(server), token)
            await agent.hello("n1")
            snapshot = (await agent.receive()).snapshot
            assert snapshot.revision == applied
            await agent.send(ack=dpb.Ack(revision=snapshot.revision))
            await asyncio.to_thread(apply)
            # Nothing at all arrives for the re-apply (catch-up runs every second).
            with pytest.raises((TimeoutError, asyncio.TimeoutError)):
                await asyncio.wait_for(agent.call.read(), 3)
            await agent.close()

        asyncio.run(scenario())
        assert revision(client) == applied
        assert events_after(client, applied) == []
        again = {
            item["metadata"]["name"]: item["metadata"]["resourceVersion"]
            for item in client.get("/v1/namespaces/shop/services").json()["items"]
        }
        assert again == versions
