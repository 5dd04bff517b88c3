"""The Kubernetes side, through kubernetes_asyncio: credentials, LIST, WATCH and Events."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kubernetes_asyncio import client, config, watch
from kubernetes_asyncio.client.exceptions import ApiException

__all__ = ["ApiException", "KubeClient", "load_api_client"]

LIST_PAGE = 500


async def load_api_client(kubeconfig: str | None, context: str | None) -> client.ApiClient:
    """--kubeconfig, else $KUBECONFIG, else ~/.kube/config, else the pod's service account."""
    path = kubeconfig or os.environ.get("KUBECONFIG") or str(Path("~/.kube/config").expanduser())
    if kubeconfig or Path(path).exists():
        configuration = client.Configuration()
        await config.load_kube_config(
            config_file=path, context=context, client_configuration=configuration
        )
        return client.ApiClient(configuration)
    configuration = client.Configuration()
    config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
    return client.ApiClient(configuration)


@dataclass(frozen=True)
class KindApi:
    """How one Kubernetes kind is listed and watched across all namespaces."""

    kind: str
    api_version: str
    plural: str  # the resource name RBAC rules grant
    lister: Callable[[client.ApiClient], Any]


KIND_APIS = {
    "Namespace": KindApi(
        "Namespace", "v1", "namespaces", lambda c: client.CoreV1Api(c).list_namespace
    ),
    "Node": KindApi("Node", "v1", "nodes", lambda c: client.CoreV1Api(c).list_node),
    "Pod": KindApi("Pod", "v1", "pods", lambda c: client.CoreV1Api(c).list_pod_for_all_namespaces),
    "Service": KindApi(
        "Service", "v1", "services", lambda c: client.CoreV1Api(c).list_service_for_all_namespaces
    ),
    "EndpointSlice": KindApi(
        "EndpointSlice",
        "discovery.k8s.io/v1",
        "endpointslices",
        lambda c: client.DiscoveryV1Api(c).list_endpoint_slice_for_all_namespaces,
    ),
    "NetworkPolicy": KindApi(
        "NetworkPolicy",
        "networking.k8s.io/v1",
        "networkpolicies",
        lambda c: client.NetworkingV1Api(c).list_network_policy_for_all_namespaces,
    ),
}


class KubeClient:
    def __init__(self, api_client: client.ApiClient) -> None:
        self.api_client = api_client

    async def close(self) -> None:
        await self.api_client.close()

    async def list(self, kind: str) -> tuple[list[dict[str, Any]], str]:
        """All objects of a kind (raw JSON, paged) and the list's resourceVersion."""
        lister = KIND_APIS[kind].lister(self.api_client)
        items: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            kwargs: dict[str, Any] = {"limit": LIST_PAGE, "_preload_content": False}
            if cursor:
                kwargs["_continue"] = cursor
            response = await lister(**kwargs)
            raw = await response.read()
            if response.status != 200:  # without preloading, the client raises for nothing
                raise ApiException(
                    status=response.status, reason=raw[:300].decode(errors="replace")
                )
            body = json.loads(raw)
            items += body.get("items") or []
            meta = body.get("metadata") or {}
            cursor = meta.get("continue")
            if not cursor:
                return items, str(meta.get("resourceVersion") or "")

    async def watch(
        self, kind: str, resource_version: str, timeout_seconds: int
    ) -> AsyncIterator[dict[str, Any]]:
        """Raw watch events from resource_version, bookmarks included. Ends when the server
        closes the stream (timeout); raises ApiException (410 Gone among them) otherwise."""
        lister = KIND_APIS[kind].lister(self.api_client)
        # "object": keep the JSON as sent, no model round trip. A timeout makes the library
        # raise 410 to us instead of retrying it with the same stale resourceVersion.
        async with watch.Watch(return_type="object") as stream:
            async for event in stream.stream(
                lister,
                resource_version=resource_version,
                allow_watch_bookmarks=True,
                timeout_seconds=timeout_seconds,
            ):
                yield {"type": event["type"], "object": event["raw_object"]}

    async def post_event(self, source: dict[str, Any], reason: str, message: str) -> None:
        """A Warning Event on the source object (in "default" for cluster-scoped ones)."""
        namespace = source.get("namespace") or "default"
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        involved = {
            k: source[k]
            for k in ("kind", "apiVersion", "name", "namespace", "uid")
            if source.get(k)
        }
        body: Any = {  # the client accepts the JSON shape as well as its model
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {
                "name": f"{source['name']}.{uuid.uuid4().hex[:16]}",
                "namespace": namespace,
            },
            "involvedObject": involved,
            "reason": reason,
            "message": message[:1024],
            "type": "Warning",
            "source": {"component": "switchyard-kube"},
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
        }
        await client.CoreV1Api(self.api_client).create_namespaced_event(namespace, body)
