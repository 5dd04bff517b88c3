"""Watch events of every kind, a 410 Gone that hides a deletion, and a broken watch."""

from __future__ import annotations

import httpx
from aiohttp.test_utils import TestClient, TestServer
from kubernetes import client as k8s

from switchyard_kube.adapter import health_app
from tests.api.support import LiveServer
from tests.kube import sample
from tests.kube.conftest import MockCluster, eventually, running_adapter, settings_for
from tests.kube.views import get, names


def endpoint_ips(
    client: httpx.Client, ns: str, service: str, ready: bool | None = None
) -> list[str]:
    document = get(client, f"/v1/namespaces/{ns}/services/{service}/endpoints") or {}
    return sorted(
        e["addresses"][0]
        for e in document.get("endpoints", [])
        if ready is None or e["conditions"]["ready"] == ready
    )


def spec(client: httpx.Client, path: str) -> dict:  # type: ignore[type-arg]
    document = get(client, path)
    return document["spec"] if document else {}


async def test_watch_events_of_every_kind(
    cluster: MockCluster, api: LiveServer, switchyard: httpx.Client
) -> None:
    kube = cluster.client
    async with running_adapter(settings_for(cluster, api.url)) as adapter:
        await eventually(lambda: len(names(switchyard, "Pod")) == 9)
        await eventually(lambda: all(i.watching for i in adapter.informers.values()))

        # ADDED, one of each kind.
        await kube.create("Namespace", sample.namespace("extra"))
        await kube.create("Node", sample.node("node-3", "192.0.2.13", "10.244.3.0/24"))
        await kube.create("Pod", sample.pod("web-4", "shop", "node-1", "10.244.1.12", "web"))
        search = sample.service("cart")
        search["metadata"]["name"] = "search"
        search["spec"].update(clusterIP="10.96.0.12", clusterIPs=["10.96.0.12"])
        await kube.create("Service", search)
        extra_slice = sample.endpoint_slice("web", ["web-1"])
        extra_slice["metadata"]["name"] = "web-xyz89"
        extra_slice["endpoints"][0]["addresses"] = ["10.244.1.12"]
        extra_slice["endpoints"][0]["targetRef"]["name"] = "web-4"
        await kube.create("EndpointSlice", extra_slice)
        await kube.create(
            "NetworkPolicy",
            sample.policy(
                "allow-all",
                "ops",
                k8s.V1NetworkPolicySpec(
                    pod_selector=k8s.V1LabelSelector(), ingress=[k8s.V1NetworkPolicyIngressRule()]
                ),
            ),
        )

        await eventually(lambda: "extra" in names(switchyard, "Namespace"))
        await eventually(lambda: "node-3" in names(switchyard, "Node"))
        await eventually(lambda: "shop/web-4" in names(switchyard, "Pod"))
        await eventually(lambda: "shop/search" in names(switchyard, "Service"))
        await eventually(lambda: "ops/allow-all" in names(switchyard, "NetworkPolicy"))
        # Two slices of one Service merge into its one endpoints document.
        await eventually(
            lambda: (
                endpoint_ips(switchyard, "shop", "web")
                == ["10.244.1.10", "10.244.1.12", "10.244.2.10", "10.244.2.11"]
            )
        )
        assert endpoint_ips(switchyard, "shop", "search") == []  # a service with no slice yet

        # MODIFIED, one of each kind.
        await kube.patch("Namespace", None, "ops", {"metadata": {"labels": {"team": "sre"}}})
        await kube.patch(
            "Node",
            None,
            "node-1",
            {
                "metadata": {
                    "annotations": {"switchyard.io/uplink-interface": "TenGigabitEthernet0/9/0"}
                }
            },
        )
        await kube.patch(
            "Pod",
            "shop",
            "web-1",
            {"status": {"conditions": [{"type": "Ready", "status": "False"}]}},
        )
        await kube.patch(
            "Service",
            "shop",
            "cart",
            {
                "spec": {
                    "sessionAffinity": "ClientIP",
                    "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 600}},
                }
            },
        )
        not_ready = sample.endpoint_slice("web", ["web-1", "web-2", "web-3"], not_ready=("web-1",))
        await kube.patch(
            "EndpointSlice", "shop", "web-abc12", {"endpoints": not_ready["endpoints"]}
        )
        await kube.patch(
            "NetworkPolicy",
            "data",
            "default-deny",
            {"spec": {"policyTypes": ["Ingress", "Egress"]}},
        )

        await eventually(
            lambda: (
                (get(switchyard, "/v1/namespaces/ops") or {})
                .get("metadata", {})
                .get("labels", {})
                .get("team")
                == "sre"
            )
        )
        await eventually(
            lambda: (
                spec(switchyard, "/v1/nodes/node-1").get("uplinkInterface")
                == "TenGigabitEthernet0/9/0"
            )
        )
        await eventually(
            lambda: (
                (get(switchyard, "/v1/namespaces/shop/pods/web-1") or {})["status"].get(
                    "conditions"
                )
                == [{"type": "Ready", "status": "False"}]
            )
        )
        await eventually(
            lambda: (
                spec(switchyard, "/v1/namespaces/shop/services/cart").get("sessionAffinityConfig")
                == {"clientIP": {"timeoutSeconds": 600}}
            )
        )
        await eventually(
            lambda: endpoint_ips(switchyard, "shop", "web", ready=False) == ["10.244.1.10"]
        )
        await eventually(
            lambda: (
                spec(switchyard, "/v1/namespaces/data/network-policies/default-deny").get(
                    "policyTypes"
                )
                == ["Ingress", "Egress"]
            )
        )

        # DELETED, one of each kind.
        await kube.delete("EndpointSlice", "shop", "web-xyz89")
        await kube.delete("NetworkPolicy", "ops", "allow-all")
        await kube.delete("Service", "shop", "search")
        await kube.delete("Pod", "shop", "web-4")
        await kube.delete("Node", None, "node-3")
        await kube.delete("Namespace", None, "extra")

        await eventually(lambda: "extra" not in names(switchyard, "Namespace"))
        await eventually(lambda: "node-3" not in names(switchyard, "Node"))
        await eventually(lambda: "shop/web-4" not in names(switchyard, "Pod"))
        await eventually(lambda: "shop/search" not in names(switchyard, "Service"))
        await eventually(lambda: "ops/allow-all" not in names(switchyard, "NetworkPolicy"))
        await eventually(
            lambda: (
                endpoint_ips(switchyard, "shop", "web")
                == ["10.244.1.10", "10.244.2.10", "10.244.2.11"]
            )
        )
        assert len(names(switchyard, "Pod")) == 9

        events = adapter.metrics.events
        for kind in ("Namespace", "Node", "Pod", "Service", "EndpointSlice", "NetworkPolicy"):
            for kind_of_event in ("ADDED", "MODIFIED", "DELETED"):
                assert events.labels(kind, kind_of_event)._value.get() >= 1, (kind, kind_of_event)
        assert adapter.metrics.lag._sum.get() > 0  # lag observed for the writes
        assert all(i.lists == 1 for i in adapter.informers.values())  # no re-list was needed


async def test_gone_relists_and_sees_a_deletion_the_watch_missed(
    cluster: MockCluster, api: LiveServer, switchyard: httpx.Client
) -> None:
    async with running_adapter(settings_for(cluster, api.url)) as adapter:
        await eventually(lambda: len(names(switchyard, "Pod")) == 9)
        await eventually(lambda: all(i.watching for i in adapter.informers.values()))

        # The pod disappears while its DELETED event is compacted away: only a re-list shows it.
        cluster.handler.delete_unseen("Pod", "shop", "web-3")
        cluster.handler.delete_unseen("NetworkPolicy", "data", "default-deny")
        cluster.handler.expire_watches()

        await eventually(lambda: "shop/web-3" not in names(switchyard, "Pod"))
        await eventually(lambda: "data/default-deny" not in names(switchyard, "NetworkPolicy"))
        assert adapter.informers["Pod"].lists >= 2
        assert adapter.metrics.watch_restarts.labels("Pod", "gone")._value.get() >= 1
        assert len(names(switchyard, "Pod")) == 8

        # The watches resume after the re-list: a later change arrives as an event.
        await cluster.client.create(
            "Pod", sample.pod("web-4", "shop", "node-1", "10.244.1.12", "web")
        )
        await eventually(lambda: "shop/web-4" in names(switchyard, "Pod"))


async def test_healthz_fails_while_a_watch_is_down(
    cluster: MockCluster, api: LiveServer, switchyard: httpx.Client
) -> None:
    async with running_adapter(settings_for(cluster, api.url)) as adapter:
        await eventually(lambda: all(i.watching for i in adapter.informers.values()))
        async with TestClient(TestServer(health_app(adapter))) as http:
            assert (await http.get("/healthz")).status == 200

            cluster.handler.refuse_watches = True
            cluster.handler.break_watches()
            await eventually(lambda: not adapter.healthy()[0])
            response = await http.get("/healthz")
            assert response.status == 503
            assert (await response.json())["status"] == "watch down"

            # Changes made while the watches are down arrive once they are back.
            await cluster.client.delete("Pod", "data", "db-2")
            cluster.handler.refuse_watches = False
            await eventually(lambda: adapter.healthy()[0], timeout=60)
            assert (await http.get("/healthz")).status == 200
        await eventually(lambda: "data/db-2" not in names(switchyard, "Pod"))
        assert adapter.metrics.watch_restarts.labels("Pod", "error")._value.get() >= 1
