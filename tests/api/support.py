"""Helpers for API tests: sample documents of every kind, clients, a live uvicorn server."""

from __future__ import annotations

import copy
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn
from fastapi.testclient import TestClient

from switchyard_api.app import create_app
from switchyard_api.settings import Settings

ADMIN_TOKEN = "test-admin-token"
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@dataclass(frozen=True)
class KindCase:
    kind: str
    collection: str  # path of the collection (for endpoints: the item path)
    name: str
    document: dict[str, Any]
    namespaced: bool = False

    def item(self, name: str | None = None) -> str:
        if self.kind == "EndpointSlice":
            return self.collection
        return f"{self.collection}/{name or self.name}"

    def body(self, name: str | None = None, labels: dict[str, str] | None = None) -> dict[str, Any]:
        document = copy.deepcopy(self.document)
        document.setdefault("metadata", {})["name"] = name or self.name
        if labels is not None:
            document["metadata"]["labels"] = labels
        return document


NS = "/v1/namespaces/team-a"
KINDS: list[KindCase] = [
    KindCase("Namespace", "/v1/namespaces", "extra", {"spec": {}}),
    KindCase(
        "Node",
        "/v1/nodes",
        "node1",
        {
            "spec": {
                "addresses": ["192.0.2.1"],
                "podCIDRs": ["10.1.1.0/24"],
                "uplinkInterface": "GigabitEthernet0/8/0",
                "bgp": {"asn": 65100, "routerId": "192.0.2.1"},
            }
        },
    ),
    KindCase(
        "LoadBalancer",
        "/v1/load-balancers",
        "lb1",
        {
            "spec": {
                "vip": "203.0.113.10/32",
                "protocol": "TCP",
                "port": 80,
                "encap": "gre4",
                "lbNodeSelector": {"matchLabels": {"lb": "true"}},
                "backends": {"nodeSelector": {}},
            }
        },
    ),
    KindCase(
        "BgpPeer",
        "/v1/bgp-peers",
        "router",
        {"spec": {"peerIP": "198.51.100.1", "asNumber": 65000}},
    ),
    KindCase(
        "Pod",
        f"{NS}/pods",
        "web-1",
        {
            "spec": {
                "nodeName": "node1",
                "podIPs": ["10.1.1.5"],
                "interface": "memif1/0",
                "ports": [{"name": "http", "containerPort": 8080}],
            }
        },
        namespaced=True,
    ),
    KindCase(
        "Service",
        f"{NS}/services",
        "web",
        {
            "spec": {
                "clusterIPs": ["10.96.0.10"],
                "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
            }
        },
        namespaced=True,
    ),
    KindCase(
        "EndpointSlice",
        f"{NS}/services/web/endpoints",
        "web",
        {
            "addressType": "IPv4",
            "endpoints": [
                {"addresses": ["10.1.1.5"], "nodeName": "node1", "targetRef": {"name": "web-1"}}
            ],
            "ports": [{"name": "http", "port": 8080}],
        },
        namespaced=True,
    ),
    KindCase(
        "NetworkPolicy",
        f"{NS}/network-policies",
        "deny-ingress",
        {"spec": {"podSelector": {}, "policyTypes": ["Ingress"]}},
        namespaced=True,
    ),
]
KIND_IDS = [case.kind for case in KINDS]


def settings_for(database_url: str, **overrides: Any) -> Settings:
    overrides.setdefault("grpc_listen", "127.0.0.1:0")  # tests run many apps side by side
    return Settings(database_url=database_url, admin_token=ADMIN_TOKEN, **overrides)


@contextmanager
def api_client(database_url: str, **overrides: Any) -> Iterator[TestClient]:
    app = create_app(settings_for(database_url, **overrides))
    with TestClient(app, headers=AUTH, raise_server_exceptions=False) as client:
        yield client


def seed_namespace(client: TestClient | httpx.Client, name: str = "team-a") -> None:
    response = client.put(f"/v1/namespaces/{name}", json={"spec": {}})
    assert response.status_code in (200, 201), response.text


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class LiveServer:
    """The real app under uvicorn in a background thread, reachable over TCP."""

    def __init__(self, database_url: str, **overrides: Any) -> None:
        self.port = free_port()
        self.app = create_app(settings_for(database_url, **overrides))
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            timeout_graceful_shutdown=1,  # open event streams would hold shutdown otherwise
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def client(self, token: str = ADMIN_TOKEN) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {token}"}, timeout=10
        )
