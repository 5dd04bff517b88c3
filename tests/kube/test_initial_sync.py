"""The first LIST of a small cluster becomes Switchyard objects and compiled node configs."""

from __future__ import annotations

import json

import httpx
from aiohttp.test_utils import TestClient, TestServer

from switchyard_kube.adapter import health_app
from tests.api.support import LiveServer
from tests.kube import sample
from tests.kube.conftest import MockCluster, eventually, running_adapter, settings_for
from tests.kube.views import get, names

MANAGED = {"switchyard.io/managed-by": "kube-adapter"}


def synced(client: httpx.Client) -> bool:
    return len(names(client, "Pod")) == 9 and len(names(client, "NetworkPolicy")) == 3


async def test_initial_sync_mirrors_the_cluster(
    cluster: MockCluster, api: LiveServer, switchyard: httpx.Client
) -> None:
    async with running_adapter(settings_for(cluster, api.url)) as adapter:
        await eventually(lambda: synced(switchyard))
        await eventually(lambda: adapter.passes >= 1)

        assert names(switchyard, "Namespace") == {"shop", "data", "ops"}
        assert names(switchyard, "Node") == {"node-1", "node-2"}
        assert names(switchyard, "Pod") == {f"{ns}/{p}" for p, (ns, *_r) in sample.PODS.items()}
        assert "ops/node-exporter" not in names(switchyard, "Pod")  # hostNetwork: skipped
        assert names(switchyard, "Service") == {"shop/web", "shop/cart", "data/db", "ops/metrics"}

        shop = get(switchyard, "/v1/namespaces/shop")
        assert shop is not None
        assert shop["metadata"]["labels"] == {
            "kubernetes.io/metadata.name": "shop",
            "team": "shop",
            **MANAGED,
        }

        node = get(switchyard, "/v1/nodes/node-1")
        assert node is not None
        assert node["spec"]["addresses"] == ["192.0.2.11"]
        assert node["spec"]["podCIDRs"] == ["10.244.1.0/24"]
        assert node["spec"]["uplinkInterface"] == "GigabitEthernet0/8/0"
        assert node["spec"]["bgp"] == {"asn": 65010, "routerId": "192.0.2.11"}
        assert node["metadata"]["labels"]["lb"] == "true"

        pod = get(switchyard, "/v1/namespaces/shop/pods/web-1")
        assert pod is not None
        assert pod["spec"]["nodeName"] == "node-1"
        assert pod["spec"]["podIPs"] == ["10.244.1.10"]
        assert pod["spec"]["interface"] == "tap-web-1"
        assert pod["spec"]["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
        assert pod["metadata"]["labels"] == {"app": "web", **MANAGED}
        assert pod["status"]["conditions"] == [{"type": "Ready", "status": "True"}]

        web = get(switchyard, "/v1/namespaces/shop/services/web")
        assert web is not None
        assert "selector" not in web["spec"]  # endpoints come from the cluster's slices
        assert web["spec"]["type"] == "LoadBalancer"
        assert web["spec"]["clusterIPs"] == ["10.96.0.10"]
        assert web["spec"]["loadBalancerIPs"] == ["203.0.113.10"]
        assert web["spec"]["ports"][0] | {"nodePort": 30080} == web["spec"]["ports"][0]
        assert web["spec"]["ports"][0]["targetPort"] == "http"

        endpoints = get(switchyard, "/v1/namespaces/shop/services/web/endpoints")
        assert endpoints is not None
        assert sorted(e["addresses"][0] for e in endpoints["endpoints"]) == [
            "10.244.1.10",
            "10.244.2.10",
            "10.244.2.11",
        ]
        assert all(e["conditions"]["ready"] for e in endpoints["endpoints"])
        assert endpoints["ports"] == [{"name": "http", "port": 8080, "protocol": "TCP"}]

        policy = get(switchyard, "/v1/namespaces/shop/network-policies/web-egress")
        assert policy is not None
        assert policy["spec"]["egress"][0]["to"][0]["ipBlock"] == {
            "cidr": "10.0.0.0/8",
            "except": ["10.99.0.0/16"],
        }

        # The compiled configuration of each node programs the mirrored services' VIPs with
        # the pods behind them.
        def config_of(node_name: str) -> str:
            response = switchyard.get(f"/v1/nodes/{node_name}/config")
            return response.text if response.status_code == 200 else ""

        text = await eventually(
            lambda: "10.96.0.10" in (c := config_of("node-1")) and "10.244.2.11" in c and c
        )
        config = json.loads(text)
        assert config["node"] == "node-1"
        for address in ("10.96.0.11", "10.96.0.20", "10.96.0.30", "10.244.1.20", "10.244.2.12"):
            assert address in text
        assert "10.96.0.10" in config_of("node-2")

        # Watches are up: /healthz answers 200, /metrics counts the writes.
        async with TestClient(TestServer(health_app(adapter))) as http:
            health = await http.get("/healthz")
            assert health.status == 200
            metrics = await (await http.get("/metrics")).text()
        assert 'switchyard_kube_writes_total{outcome="ok",verb="create"} 25.0' in metrics
        assert 'switchyard_kube_writes_total{outcome="ok",verb="status"} 9.0' in metrics
