"""Restarts of the adapter and of the Switchyard API, rejected objects, others' objects."""

from __future__ import annotations

import asyncio
import threading
import time

import httpx
import uvicorn

from switchyard_api.app import create_app
from tests.api.support import AUTH, LiveServer, free_port
from tests.api.support import settings_for as api_settings
from tests.kube import sample
from tests.kube.conftest import MockCluster, eventually, running_adapter, settings_for
from tests.kube.views import get, names, revision


class ApiOnPort:
    """switchyard-api under uvicorn on a fixed port, so that it can stop and come back."""

    def __init__(self, database_url: str, port: int) -> None:
        self.database_url = database_url
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.server: uvicorn.Server | None = None
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        app = create_app(api_settings(self.database_url))
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", timeout_graceful_shutdown=1
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)

    def stop(self) -> None:
        assert self.server is not None and self.thread is not None
        self.server.should_exit = True
        self.thread.join(timeout=15)


async def test_adapter_restart_makes_no_duplicate_writes(
    cluster: MockCluster, api: LiveServer, switchyard: httpx.Client
) -> None:
    settings = settings_for(cluster, api.url)
    async with running_adapter(settings) as first:
        await eventually(lambda: first.passes >= 1 and len(names(switchyard, "Pod")) == 9)
    before = revision(switchyard)

    async with running_adapter(settings) as second:
        await eventually(lambda: second.passes >= 1)
        await asyncio.sleep(0.5)  # bookmarks and any late event would reconcile again
        assert second.reconciler.outcomes == {}  # planned nothing: every object is as stored
        assert revision(switchyard) == before

    # A change while no adapter runs is picked up by the next one's LIST, and only it.
    await cluster.client.delete("Pod", "shop", "cart-2")
    async with running_adapter(settings) as third:
        await eventually(lambda: "shop/cart-2" not in names(switchyard, "Pod"))
        await eventually(lambda: third.passes >= 1)
        assert dict(third.reconciler.outcomes) == {"delete:ok": 1}
    assert revision(switchyard) == before + 1


async def test_switchyard_down_for_ten_seconds_then_back(
    cluster: MockCluster, fresh_postgres_url: str
) -> None:
    api = ApiOnPort(fresh_postgres_url, free_port())
    api.start()
    try:
        client = httpx.Client(base_url=api.url, headers=AUTH, timeout=10)
        async with running_adapter(settings_for(cluster, api.url)) as adapter:
            await eventually(lambda: adapter.passes >= 1 and len(names(client, "Pod")) == 9)

            api.stop()
            await cluster.client.create(
                "Pod", sample.pod("web-4", "shop", "node-1", "10.244.1.12", "web")
            )
            await cluster.client.delete("Service", "data", "db")
            await cluster.client.patch(
                "Pod", "shop", "web-2", {"metadata": {"labels": {"version": "v2"}}}
            )
            await asyncio.sleep(10)
            # The watches never depended on Switchyard: the adapter stays healthy meanwhile.
            assert adapter.healthy()[0]
            outcomes = adapter.reconciler.outcomes
            assert sum(n for o, n in outcomes.items() if o.endswith(":unavailable")) >= 1
            api.start()

            await eventually(lambda: "shop/web-4" in names(client, "Pod"), timeout=60)
            await eventually(lambda: "data/db" not in names(client, "Service"), timeout=30)
            await eventually(
                lambda: (
                    (get(client, "/v1/namespaces/shop/pods/web-2") or {})["metadata"]["labels"].get(
                        "version"
                    )
                    == "v2"
                ),
                timeout=30,
            )
            assert len(names(client, "Pod")) == 10
            settled = revision(client)
            await asyncio.sleep(1)
            assert revision(client) == settled  # nothing written twice after the outage
        client.close()
    finally:
        api.stop()


async def test_a_rejected_object_is_reported_and_stops_nothing(
    cluster: MockCluster, api: LiveServer, switchyard: httpx.Client
) -> None:
    async with running_adapter(settings_for(cluster, api.url)) as adapter:
        await eventually(lambda: adapter.passes >= 1 and len(names(switchyard, "Pod")) == 9)

        bad = sample.node(
            "node-3",
            "192.0.2.13",
            "10.244.3.0/24",
            annotations={"switchyard.io/bgp-asn": "sixty-five-thousand"},
        )
        await cluster.client.create("Node", bad)
        await cluster.client.create(
            "Pod", sample.pod("web-4", "shop", "node-1", "10.244.1.12", "web")
        )

        await eventually(lambda: "shop/web-4" in names(switchyard, "Pod"))
        await eventually(lambda: cluster.handler.stored("Event"))
        assert "node-3" not in names(switchyard, "Node")
        [event] = cluster.handler.stored("Event")
        assert event["reason"] == "SwitchyardRejected"
        assert event["type"] == "Warning"
        assert event["involvedObject"]["kind"] == "Node"
        assert event["involvedObject"]["name"] == "node-3"
        assert "spec.bgp.asn" in event["message"]
        assert adapter.metrics.rejected._value.get() == 1
        assert adapter.metrics.writes.labels("create", "rejected")._value.get() == 1

        # Not sent again while unchanged; fixed in the cluster, it is mirrored.
        await cluster.client.create(
            "Pod", sample.pod("web-5", "shop", "node-1", "10.244.1.13", "web")
        )
        await eventually(lambda: "shop/web-5" in names(switchyard, "Pod"))
        assert adapter.metrics.writes.labels("create", "rejected")._value.get() == 1
        await cluster.client.patch(
            "Node",
            None,
            "node-3",
            {"metadata": {"annotations": {"switchyard.io/bgp-asn": "65013"}}},
        )
        await eventually(lambda: "node-3" in names(switchyard, "Node"))
        await eventually(lambda: adapter.metrics.rejected._value.get() == 0)


async def test_objects_the_adapter_did_not_create_are_left_alone(
    cluster: MockCluster, api: LiveServer, switchyard: httpx.Client
) -> None:
    def put(path: str, body: dict) -> dict:  # type: ignore[type-arg]
        response = switchyard.put(path, json=body)
        assert response.status_code in (200, 201), response.text
        document: dict = response.json()  # type: ignore[type-arg]
        return document

    put("/v1/namespaces/shop", {"metadata": {"labels": {"owner": "ops-team"}}, "spec": {}})
    put("/v1/namespaces/legacy", {"spec": {}})
    theirs = put(
        "/v1/namespaces/shop/pods/web-1", {"spec": {"nodeName": "node-9", "podIPs": ["10.9.9.9"]}}
    )
    put("/v1/namespaces/shop/pods/manual", {"spec": {"nodeName": "node-9"}})
    put(
        "/v1/namespaces/legacy/services/old",
        {"spec": {"clusterIPs": ["10.96.9.9"], "ports": [{"port": 80}]}},
    )

    async with running_adapter(settings_for(cluster, api.url)) as adapter:
        await eventually(lambda: adapter.passes >= 1 and "shop/web-2" in names(switchyard, "Pod"))
        await cluster.client.delete("Pod", "shop", "web-1")
        await cluster.client.delete("Namespace", None, "ops")
        await eventually(lambda: "ops" not in names(switchyard, "Namespace"))
        await asyncio.sleep(0.3)

        shop = get(switchyard, "/v1/namespaces/shop")
        assert shop is not None and shop["metadata"]["labels"].get("owner") == "ops-team"
        assert "switchyard.io/managed-by" not in shop["metadata"]["labels"]
        web1 = get(switchyard, "/v1/namespaces/shop/pods/web-1")
        assert web1 is not None
        assert web1["metadata"]["resourceVersion"] == theirs["metadata"]["resourceVersion"]
        assert web1["spec"]["podIPs"] == ["10.9.9.9"]
        assert get(switchyard, "/v1/namespaces/shop/pods/manual") is not None
        assert get(switchyard, "/v1/namespaces/legacy/services/old") is not None
        assert "legacy" in names(switchyard, "Namespace")
        # The adapter's own objects beside them are mirrored as usual.
        assert {"shop/web-2", "shop/web-3", "shop/cart-1"} <= names(switchyard, "Pod")
        # The taken names are reported on their Kubernetes objects.
        reported = {
            (e["involvedObject"]["kind"], e["involvedObject"]["name"])
            for e in cluster.handler.stored("Event")
        }
        assert ("Namespace", "shop") in reported and ("Pod", "web-1") in reported
