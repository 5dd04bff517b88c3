"""A small cluster as real Kubernetes JSON, built with the official client's models:
3 namespaces, 2 nodes, 9 pods (plus one host-network pod the adapter skips), 4 services with
their EndpointSlices, 3 network policies."""

from __future__ import annotations

from typing import Any

from kubernetes import client as k8s

_api = k8s.ApiClient()

NAMESPACES = ("shop", "data", "ops")
NODES = {"node-1": ("192.0.2.11", "10.244.1.0/24"), "node-2": ("192.0.2.12", "10.244.2.0/24")}
# pod name -> (namespace, node, ip, app)
PODS = {
    "web-1": ("shop", "node-1", "10.244.1.10", "web"),
    "web-2": ("shop", "node-2", "10.244.2.10", "web"),
    "web-3": ("shop", "node-2", "10.244.2.11", "web"),
    "cart-1": ("shop", "node-1", "10.244.1.11", "cart"),
    "cart-2": ("shop", "node-2", "10.244.2.12", "cart"),
    "db-1": ("data", "node-1", "10.244.1.20", "db"),
    "db-2": ("data", "node-2", "10.244.2.20", "db"),
    "metrics-1": ("ops", "node-1", "10.244.1.30", "metrics"),
    "metrics-2": ("ops", "node-2", "10.244.2.30", "metrics"),
}
# service -> (namespace, app, cluster IP, port, target port name, type)
SERVICES = {
    "web": ("shop", "web", "10.96.0.10", 80, "http", "LoadBalancer"),
    "cart": ("shop", "cart", "10.96.0.11", 8080, "http", "ClusterIP"),
    "db": ("data", "db", "10.96.0.20", 5432, "pg", "ClusterIP"),
    "metrics": ("ops", "metrics", "10.96.0.30", 9100, "metrics", "NodePort"),
}
CONTAINER_PORTS = {"web": 8080, "cart": 8081, "db": 5432, "metrics": 9100}
PORT_NAMES = {"web": "http", "cart": "http", "db": "pg", "metrics": "metrics"}


def as_json(model: Any) -> dict[str, Any]:
    """The JSON the API server sends for a model (camelCase, nulls left out)."""
    data: dict[str, Any] = _api.sanitize_for_serialization(model)
    return data


def namespace(name: str) -> dict[str, Any]:
    labels = {"kubernetes.io/metadata.name": name, "team": name}
    return as_json(
        k8s.V1Namespace(
            api_version="v1", kind="Namespace", metadata=k8s.V1ObjectMeta(name=name, labels=labels)
        )
    )


def node(
    name: str, ip: str, cidr: str, annotations: dict[str, str] | None = None
) -> dict[str, Any]:
    return as_json(
        k8s.V1Node(
            api_version="v1",
            kind="Node",
            metadata=k8s.V1ObjectMeta(
                name=name,
                labels={"kubernetes.io/hostname": name, "lb": "true"},
                annotations={
                    "switchyard.io/uplink-interface": "GigabitEthernet0/8/0",
                    **(annotations or {}),
                },
            ),
            spec=k8s.V1NodeSpec(pod_cidr=cidr, pod_cidrs=[cidr]),
            status=k8s.V1NodeStatus(
                addresses=[
                    k8s.V1NodeAddress(type="InternalIP", address=ip),
                    k8s.V1NodeAddress(type="Hostname", address=name),
                ]
            ),
        )
    )


def pod(
    name: str,
    ns: str,
    node_name: str,
    ip: str,
    app: str,
    ready: bool = True,
    host_network: bool = False,
) -> dict[str, Any]:
    port = k8s.V1ContainerPort(
        name=PORT_NAMES[app], container_port=CONTAINER_PORTS[app], protocol="TCP"
    )
    return as_json(
        k8s.V1Pod(
            api_version="v1",
            kind="Pod",
            metadata=k8s.V1ObjectMeta(
                name=name,
                namespace=ns,
                labels={"app": app},
                annotations={"switchyard.io/interface": f"tap-{name}"},
            ),
            spec=k8s.V1PodSpec(
                node_name=node_name,
                host_network=host_network or None,
                containers=[
                    k8s.V1Container(
                        name=app,
                        image=f"example/{app}:1",
                        ports=[port, k8s.V1ContainerPort(container_port=9999)],
                    )
                ],
            ),
            status=k8s.V1PodStatus(
                phase="Running",
                pod_ip=ip,
                pod_ips=[k8s.V1PodIP(ip=ip)],
                conditions=[k8s.V1PodCondition(type="Ready", status="True" if ready else "False")],
            ),
        )
    )


def service(name: str) -> dict[str, Any]:
    ns, app, cluster_ip, port, target, kind = SERVICES[name]
    node_port = {"LoadBalancer": 30080, "NodePort": 30090}.get(kind)
    status = None
    if kind == "LoadBalancer":
        status = k8s.V1ServiceStatus(
            load_balancer=k8s.V1LoadBalancerStatus(
                ingress=[k8s.V1LoadBalancerIngress(ip="203.0.113.10")]
            )
        )
    return as_json(
        k8s.V1Service(
            api_version="v1",
            kind="Service",
            metadata=k8s.V1ObjectMeta(name=name, namespace=ns, labels={"app": app}),
            spec=k8s.V1ServiceSpec(
                type=kind,
                selector={"app": app},
                cluster_ip=cluster_ip,
                cluster_ips=[cluster_ip],
                ip_families=["IPv4"],
                ip_family_policy="SingleStack",
                ports=[
                    k8s.V1ServicePort(
                        name=target,
                        port=port,
                        target_port=target,
                        protocol="TCP",
                        node_port=node_port,
                    )
                ],
                session_affinity="None",
                external_traffic_policy="Cluster" if kind != "ClusterIP" else None,
                internal_traffic_policy="Cluster",
            ),
            status=status,
        )
    )


def endpoint_slice(
    service_name: str, pods: list[str], not_ready: tuple[str, ...] = ()
) -> dict[str, Any]:
    ns, app, _, _, target, _ = SERVICES[service_name]
    endpoints = []
    for pod_name in pods:
        _, node_name, ip, _ = PODS[pod_name]
        ready = pod_name not in not_ready
        endpoints.append(
            k8s.V1Endpoint(
                addresses=[ip],
                conditions=k8s.V1EndpointConditions(ready=ready, serving=ready, terminating=False),
                node_name=node_name,
                target_ref=k8s.V1ObjectReference(kind="Pod", namespace=ns, name=pod_name),
            )
        )
    return as_json(
        k8s.V1EndpointSlice(
            api_version="discovery.k8s.io/v1",
            kind="EndpointSlice",
            metadata=k8s.V1ObjectMeta(
                name=f"{service_name}-abc12",
                namespace=ns,
                labels={
                    "kubernetes.io/service-name": service_name,
                    "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
                },
            ),
            address_type="IPv4",
            endpoints=endpoints,
            ports=[
                k8s.DiscoveryV1EndpointPort(name=target, port=CONTAINER_PORTS[app], protocol="TCP")
            ],
        )
    )


def policy(name: str, ns: str, spec: k8s.V1NetworkPolicySpec) -> dict[str, Any]:
    return as_json(
        k8s.V1NetworkPolicy(
            api_version="networking.k8s.io/v1",
            kind="NetworkPolicy",
            metadata=k8s.V1ObjectMeta(name=name, namespace=ns),
            spec=spec,
        )
    )


def policies() -> list[dict[str, Any]]:
    app = lambda value: k8s.V1LabelSelector(match_labels={"app": value})  # noqa: E731
    return [
        policy(
            "default-deny",
            "data",
            k8s.V1NetworkPolicySpec(pod_selector=k8s.V1LabelSelector(), policy_types=["Ingress"]),
        ),
        policy(
            "db-from-shop",
            "data",
            k8s.V1NetworkPolicySpec(
                pod_selector=app("db"),
                ingress=[
                    k8s.V1NetworkPolicyIngressRule(
                        _from=[
                            k8s.V1NetworkPolicyPeer(
                                namespace_selector=k8s.V1LabelSelector(
                                    match_labels={"team": "shop"}
                                )
                            )
                        ],
                        ports=[k8s.V1NetworkPolicyPort(protocol="TCP", port=5432)],
                    )
                ],
            ),
        ),
        policy(
            "web-egress",
            "shop",
            k8s.V1NetworkPolicySpec(
                pod_selector=app("web"),
                policy_types=["Egress"],
                egress=[
                    k8s.V1NetworkPolicyEgressRule(
                        to=[
                            k8s.V1NetworkPolicyPeer(
                                ip_block=k8s.V1IPBlock(cidr="10.0.0.0/8", _except=["10.99.0.0/16"])
                            )
                        ]
                    )
                ],
            ),
        ),
    ]


def cluster_objects() -> list[tuple[str, dict[str, Any]]]:
    objects: list[tuple[str, dict[str, Any]]] = [("Namespace", namespace(n)) for n in NAMESPACES]
    objects += [("Node", node(n, ip, cidr)) for n, (ip, cidr) in NODES.items()]
    objects += [("Pod", pod(n, *spec)) for n, spec in PODS.items()]
    objects.append(
        ("Pod", pod("node-exporter", "ops", "node-1", "192.0.2.11", "metrics", host_network=True))
    )
    objects += [("Service", service(s)) for s in SERVICES]
    for name, (ns, app, *_rest) in SERVICES.items():
        members = [p for p, (pns, _, _, papp) in PODS.items() if pns == ns and papp == app]
        objects.append(("EndpointSlice", endpoint_slice(name, members)))
    objects += [("NetworkPolicy", p) for p in policies()]
    return objects
