"""Kubernetes manifests as they are: taken verbatim from the Kubernetes documentation's Service
(https://kubernetes.io/docs/concepts/services-networking/service/) and NetworkPolicy
(https://kubernetes.io/docs/concepts/services-networking/network-policies/) pages, applied
unchanged, and compiled."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import yaml

from tests.waiting import wait_for

from .support import LiveServer

# -- kubernetes.io/docs/concepts/services-networking/service/ -------------------------------
SERVICE_DOCS = """
apiVersion: v1
kind: Service
metadata:
  name: my-service
spec:
  selector:
    app.kubernetes.io/name: MyApp
  ports:
    - protocol: TCP
      port: 80
      targetPort: 9376
---
apiVersion: v1
kind: Service
metadata:
  name: nginx-service
spec:
  selector:
    app.kubernetes.io/name: proxy
  ports:
  - name: name-of-service-port
    protocol: TCP
    port: 80
    targetPort: http-web-svc
---
apiVersion: v1
kind: Service
metadata:
  name: my-service-multi
spec:
  selector:
    app.kubernetes.io/name: MyApp
  ports:
    - name: http
      protocol: TCP
      port: 80
      targetPort: 9376
    - name: https
      protocol: TCP
      port: 443
      targetPort: 9377
---
apiVersion: v1
kind: Service
metadata:
  name: my-service-nodeport
spec:
  type: NodePort
  selector:
    app.kubernetes.io/name: MyApp
  ports:
    - port: 80
      # By default and for convenience, the `targetPort` is set to
      # the same value as the `port` field.
      targetPort: 80
      # Optional field
      # By default and for convenience, the Kubernetes control plane
      # will allocate a port from a range (default: 30000-32767)
      nodePort: 30007
---
apiVersion: v1
kind: Service
metadata:
  name: my-service-lb
spec:
  selector:
    app.kubernetes.io/name: MyApp
  ports:
    - protocol: TCP
      port: 80
      targetPort: 9376
  clusterIP: 10.0.171.239
  type: LoadBalancer
status:
  loadBalancer:
    ingress:
    - ip: 192.0.2.127
---
apiVersion: v1
kind: Service
metadata:
  name: my-service-external
spec:
  selector:
    app.kubernetes.io/name: MyApp
  ports:
    - name: http
      protocol: TCP
      port: 80
      targetPort: 49152
  externalIPs:
    - 198.51.100.32
"""

# -- kubernetes.io/docs/concepts/services-networking/network-policies/ ----------------------
NETWORK_POLICY_DOCS = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: test-network-policy
  namespace: default
spec:
  podSelector:
    matchLabels:
      role: db
  policyTypes:
  - Ingress
  - Egress
  ingress:
  - from:
    - ipBlock:
        cidr: 172.17.0.0/16
        except:
        - 172.17.1.0/24
    - namespaceSelector:
        matchLabels:
          project: myproject
    - podSelector:
        matchLabels:
          role: frontend
    ports:
    - protocol: TCP
      port: 6379
  egress:
  - to:
    - ipBlock:
        cidr: 10.0.0.0/24
    ports:
    - protocol: TCP
      port: 5978
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny-ingress
spec:
  podSelector: {}
  policyTypes:
  - Ingress
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-all-ingress
spec:
  podSelector: {}
  ingress:
  - {}
  policyTypes:
  - Ingress
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny-egress
spec:
  podSelector: {}
  policyTypes:
  - Egress
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-all-egress
spec:
  podSelector: {}
  egress:
  - {}
  policyTypes:
  - Egress
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny-all
spec:
  podSelector: {}
  policyTypes:
  - Ingress
  - Egress
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: multi-port-egress
  namespace: default
spec:
  podSelector:
    matchLabels:
      role: db
  policyTypes:
    - Egress
  egress:
    - to:
        - ipBlock:
            cidr: 10.0.0.0/24
      ports:
        - protocol: TCP
          port: 32000
          endPort: 32768
"""

NAMESPACE = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: default\n"
PLURALS = {"Service": "services", "NetworkPolicy": "network-policies"}


@pytest.fixture
def client(fresh_postgres_url: str) -> Iterator[httpx.Client]:
    # The docs' LoadBalancer example asks for 10.0.171.239: a cluster whose service CIDR
    # holds it.
    with (
        LiveServer(fresh_postgres_url, service_cidrs="10.0.0.0/12") as server,
        server.client() as client,
    ):
        yield client


def apply(client: httpx.Client, document: dict[str, Any]) -> httpx.Response:
    namespace = document["metadata"].get("namespace", "default")
    collection = f"/v1/namespaces/{namespace}/{PLURALS[document['kind']]}"
    return client.post(collection, json=document)


def test_documentation_manifests_apply_unchanged_and_compile(client: httpx.Client) -> None:
    namespace = client.post("/v1/namespaces", json=yaml.safe_load(NAMESPACE))  # no spec
    assert namespace.status_code == 201, namespace.text
    spec = {"addresses": ["192.0.2.1"], "podCIDRs": ["10.1.1.0/24"]}
    client.put("/v1/nodes/n1", json={"spec": spec}).raise_for_status()
    pod = {
        "metadata": {"labels": {"app.kubernetes.io/name": "proxy", "role": "db"}},
        "spec": {
            "nodeName": "n1",
            "podIPs": ["10.1.1.5"],
            "interface": "tap0",
            "ports": [{"name": "http-web-svc", "containerPort": 80}],
        },
    }
    client.put("/v1/namespaces/default/pods/nginx", json=pod).raise_for_status()

    documents = [*yaml.safe_load_all(SERVICE_DOCS), *yaml.safe_load_all(NETWORK_POLICY_DOCS)]
    warnings: dict[str, str] = {}
    for document in documents:
        response = apply(client, document)
        assert response.status_code == 201, (document["metadata"]["name"], response.text)
        assert response.json()["apiVersion"] == "switchyard.io/v1"
        if "Warning" in response.headers:
            warnings[document["metadata"]["name"]] = response.headers["Warning"]
    assert warnings == {
        "my-service-lb": '299 - "fields accepted and ignored by Switchyard: status"'
    }
    lb = client.get("/v1/namespaces/default/services/my-service-lb").json()["spec"]
    assert lb["clusterIP"] == "10.0.171.239"
    nodeport = client.get("/v1/namespaces/default/services/my-service-nodeport").json()
    assert nodeport["spec"]["ports"][0]["nodePort"] == 30007
    nginx = client.get("/v1/namespaces/default/services/nginx-service/endpoints").json()
    assert [e["targetRef"]["name"] for e in nginx["endpoints"]] == ["nginx"]

    def compiled() -> dict[str, Any] | None:
        status = client.get("/v1/status").json()
        if status["compiledRevision"] != status["revision"]:
            return None
        response = client.get("/v1/nodes/n1/config")
        config: dict[str, Any] = response.json()
        return config

    config = wait_for(compiled, what="node n1 compiled")
    assert client.get("/v1/status").json()["compileErrors"] == []
    nginx_ip = client.get("/v1/namespaces/default/services/nginx-service").json()["spec"]
    frontend = config["objects"][f"frontend/TCP/{nginx_ip['clusterIP']}/80"]
    assert [(b["address"], b["port"]) for b in frontend["backends"]] == [("10.1.1.5", 80)]
    assert any(key.startswith("acl/") for key in config["objects"]), sorted(config["objects"])


def test_kubernetes_api_versions_and_ignored_fields(client: httpx.Client) -> None:
    client.post("/v1/namespaces", json=yaml.safe_load(NAMESPACE)).raise_for_status()
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web"},
        "spec": {
            "selector": {"app": "web"},
            "ports": [{"port": 80, "appProtocol": "http"}],
            "allocateLoadBalancerNodePorts": True,
            "publishNotReadyAddresses": True,
        },
        "status": {"loadBalancer": {}},
    }
    created = apply(client, service)
    assert created.status_code == 201, created.text
    warning = created.headers["Warning"]
    for field in (
        "spec.allocateLoadBalancerNodePorts",
        "spec.publishNotReadyAddresses",
        "spec.ports[0].appProtocol",
    ):
        assert field in warning
    stored = client.get("/v1/namespaces/default/services/web").json()
    assert "allocateLoadBalancerNodePorts" not in stored["spec"]
    assert "appProtocol" not in stored["spec"]["ports"][0]
    # Kubernetes' EndpointSlice shape on a service without a selector.
    client.put(
        "/v1/namespaces/default/services/manual", json={"spec": {"ports": [{"port": 80}]}}
    ).raise_for_status()
    slice_ = {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {"name": "manual-abc12", "labels": {"kubernetes.io/service-name": "manual"}},
        "addressType": "IPv4",
        "endpoints": [{"addresses": ["10.1.1.7"], "conditions": {"ready": True}}],
        # The endpoint slice controller names an unnamed port "".
        "ports": [{"name": "", "port": 80, "protocol": "TCP"}],
    }
    response = client.put("/v1/namespaces/default/services/manual/endpoints", json=slice_)
    assert response.status_code == 201, response.text
    assert "metadata.name" in response.headers["Warning"]
    # Other apiVersions, and fields Switchyard uses but cannot honour, are 422.
    wrong = apply(client, {**service, "apiVersion": "apps/v1", "metadata": {"name": "other"}})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "apiVersion"
    external = {
        **service,
        "metadata": {"name": "ext"},
        "spec": {"type": "ExternalName", "externalName": "db.example.com"},
    }
    assert apply(client, external).status_code == 422
    ranges = {
        **service,
        "metadata": {"name": "ranged"},
        "spec": {
            "type": "LoadBalancer",
            "ports": [{"port": 80}],
            "loadBalancerSourceRanges": ["198.51.100.0/24"],
        },
    }
    refused = apply(client, ranges)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "spec.loadBalancerSourceRanges"
