"""Every validation rule answers 422 problem+json naming the field, and stores nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from .support import NS, api_client, seed_namespace

SERVICE = {"clusterIPs": ["10.96.0.10"], "ports": [{"name": "http", "port": 80}]}
LB = {
    "vip": "203.0.113.10/32",
    "port": 80,
    "lbNodeSelector": {},
    "backends": {"nodeSelector": {}},
}


def spec(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {"spec": {**base, **changes}}


# (path, name, body, field expected in the problem's errors)
CASES: list[tuple[str, str, str, dict[str, Any], str]] = [
    (
        "name not DNS-1123",
        "/v1/nodes",
        "Node_1",
        {"spec": {"addresses": ["192.0.2.1"]}},
        "name",
    ),
    (
        "name too long",
        "/v1/nodes",
        "n" * 64,
        {"spec": {"addresses": ["192.0.2.1"]}},
        "name",
    ),
    (
        "label key",
        "/v1/nodes",
        "n1",
        {"metadata": {"labels": {"bad key": "v"}}, "spec": {"addresses": ["192.0.2.1"]}},
        "metadata.labels",
    ),
    (
        "label value",
        "/v1/nodes",
        "n1",
        {"metadata": {"labels": {"k": "-bad-"}}, "spec": {"addresses": ["192.0.2.1"]}},
        "metadata.labels",
    ),
    (
        "IPv4 address",
        "/v1/nodes",
        "n1",
        {"spec": {"addresses": ["192.0.2.300"]}},
        "spec.addresses[0]",
    ),
    (
        "IPv6 address",
        "/v1/nodes",
        "n1",
        {"spec": {"addresses": ["2001:db8::zz"]}},
        "spec.addresses[0]",
    ),
    (
        "CIDR with host bits",
        "/v1/nodes",
        "n1",
        {"spec": {"addresses": ["192.0.2.1"], "podCIDRs": ["10.1.1.1/24"]}},
        "spec.podCIDRs[0]",
    ),
    (
        "two pod CIDRs of one family",
        "/v1/nodes",
        "n1",
        {"spec": {"addresses": ["192.0.2.1"], "podCIDRs": ["10.1.1.0/24", "10.1.2.0/24"]}},
        "spec.podCIDRs",
    ),
    (
        "two clusterIPs of one family",
        f"{NS}/services",
        "web2",
        spec(SERVICE, clusterIPs=["10.96.0.10", "10.96.0.11"]),
        "spec.clusterIPs",
    ),
    ("port 0", f"{NS}/services", "web2", spec(SERVICE, ports=[{"port": 0}]), "spec.ports[0].port"),
    (
        "port 65536",
        f"{NS}/services",
        "web2",
        spec(SERVICE, ports=[{"port": 65536}]),
        "spec.ports[0].port",
    ),
    (
        "targetPort 0",
        f"{NS}/services",
        "web2",
        spec(SERVICE, ports=[{"port": 80, "targetPort": 0}]),
        "spec.ports[0].targetPort",
    ),
    (
        "protocol",
        f"{NS}/services",
        "web2",
        spec(SERVICE, ports=[{"port": 80, "protocol": "ICMP"}]),
        "spec.ports[0].protocol",
    ),
    (
        "nodePort outside the range",
        f"{NS}/services",
        "web2",
        spec(SERVICE, type="NodePort", ports=[{"port": 80, "nodePort": 8080}]),
        "spec.ports[0].nodePort",
    ),
    (
        "nodePort on a ClusterIP service",
        f"{NS}/services",
        "web2",
        spec(SERVICE, ports=[{"port": 80, "nodePort": 30080}]),
        "spec",
    ),
    (
        "unnamed ports",
        f"{NS}/services",
        "web2",
        spec(SERVICE, ports=[{"port": 80}, {"port": 81}]),
        "spec.ports",
    ),
    (
        "selector operator",
        f"{NS}/network-policies",
        "p",
        {"spec": {"podSelector": {"matchExpressions": [{"key": "a", "operator": "Near"}]}}},
        "spec.podSelector.matchExpressions[0].operator",
    ),
    (
        "selector In without values",
        f"{NS}/network-policies",
        "p",
        {"spec": {"podSelector": {"matchExpressions": [{"key": "a", "operator": "In"}]}}},
        "spec.podSelector.matchExpressions[0]",
    ),
    (
        "ipBlock except outside cidr",
        f"{NS}/network-policies",
        "p",
        {
            "spec": {
                "ingress": [
                    {"from": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["11.0.0.0/16"]}}]}
                ]
            }
        },
        "spec.ingress[0].from[0].ipBlock",
    ),
    (
        "ipBlock except of another family",
        f"{NS}/network-policies",
        "p",
        {
            "spec": {
                "ingress": [
                    {"from": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["2001:db8::/64"]}}]}
                ]
            }
        },
        "spec.ingress[0].from[0].ipBlock",
    ),
    (
        "endPort below port",
        f"{NS}/network-policies",
        "p",
        {"spec": {"ingress": [{"ports": [{"port": 90, "endPort": 80}]}]}},
        "spec.ingress[0].ports[0]",
    ),
    (
        "newFlowsTableLength not a power of two",
        "/v1/load-balancers",
        "lb",
        spec(LB, newFlowsTableLength=1000),
        "spec.newFlowsTableLength",
    ),
    (
        "gre4 with IPv6 backends",
        "/v1/load-balancers",
        "lb",
        spec(LB, backends={"addresses": ["2001:db8::1"]}),
        "spec",
    ),
    (
        "l3dsr without dscp",
        "/v1/load-balancers",
        "lb",
        spec(LB, encap="l3dsr", backends={"addresses": ["192.0.2.9"]}),
        "spec",
    ),
    (
        "endpoint address of the wrong family",
        f"{NS}/services/web/endpoints",
        "",
        {"addressType": "IPv4", "endpoints": [{"addresses": ["2001:db8::5"]}]},
        "",
    ),
    (
        "unknown namespace",
        "/v1/namespaces/ghost/pods",
        "p1",
        {"spec": {"nodeName": "node1"}},
        "metadata.namespace",
    ),
    (
        "load balancer backend in an unknown namespace",
        "/v1/load-balancers",
        "lb",
        spec(
            LB,
            encap="l3dsr",
            dscp=10,
            backends={"service": {"namespace": "ghost", "name": "web"}},
        ),
        "spec.backends.service.namespace",
    ),
    (
        "unknown field",
        "/v1/nodes",
        "n1",
        {"spec": {"addresses": ["192.0.2.1"], "colour": "red"}},
        "spec.colour",
    ),
]


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    with api_client(database_url) as client:
        seed_namespace(client)
        assert client.put(f"{NS}/services/web", json=spec(SERVICE)).status_code == 201
        yield client


def revision(client: TestClient) -> int:
    value: int = client.get("/readyz").json()["revision"]
    return value


@pytest.mark.parametrize(
    ("path", "name", "body", "field"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_invalid_input_is_422_naming_the_field(
    client: TestClient, path: str, name: str, body: dict[str, Any], field: str
) -> None:
    before = revision(client)
    item = f"{path}/{name}" if name else path
    response = client.put(item, json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 422
    fields = [e["field"] for e in problem["errors"]]
    assert any(f.startswith(field) for f in fields), (field, problem)
    assert all(f for f in fields)
    assert revision(client) == before
    if name:
        assert client.get(item).status_code in (404, 422)  # 422: not even a valid name


def test_merge_patch_that_breaks_validation_changes_nothing(client: TestClient) -> None:
    before = client.get(f"{NS}/services/web").json()
    response = client.patch(
        f"{NS}/services/web",
        json={"spec": {"ports": [{"port": 70000}]}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "spec.ports[0].port"
    assert client.get(f"{NS}/services/web").json() == before


@pytest.mark.parametrize(
    ("path", "first", "second", "owner"),
    [
        (
            f"{NS}/services",
            spec(SERVICE),
            spec(SERVICE, clusterIPs=["10.96.0.10"]),
            "Service team-a/web",
        ),
        (
            f"{NS}/services",
            spec(SERVICE, clusterIPs=["10.96.0.77"], externalIPs=["198.51.100.7"]),
            spec(SERVICE, clusterIPs=["10.96.0.78"], externalIPs=["198.51.100.7"]),
            "Service team-a/first",
        ),
        (
            f"{NS}/services",
            spec(
                SERVICE,
                type="NodePort",
                clusterIPs=["10.96.0.31"],
                ports=[{"port": 80, "nodePort": 30080}],
            ),
            spec(
                SERVICE,
                type="NodePort",
                clusterIPs=["10.96.0.32"],
                ports=[{"port": 80, "nodePort": 30080}],
            ),
            "Service team-a/first",
        ),
        ("/v1/load-balancers", spec(LB), spec(LB), "LoadBalancer first"),
        (
            "/v1/load-balancers",
            spec(LB, protocol="Any", port=0),
            spec(LB, protocol="UDP", port=53),
            "LoadBalancer first",
        ),
    ],
    ids=["clusterIP+port", "externalIP+port", "nodePort", "VIP", "VIP any-port overlap"],
)
def test_conflicting_claims_are_409_naming_the_owner(
    client: TestClient, path: str, first: dict[str, Any], second: dict[str, Any], owner: str
) -> None:
    if path.endswith("services") and first == spec(SERVICE):
        owner_doc = None  # "web" from the fixture already holds it
    else:
        owner_doc = client.put(f"{path}/first", json=first)
        assert owner_doc.status_code == 201, owner_doc.text
    before = revision(client)
    response = client.put(f"{path}/second", json=second)
    assert response.status_code == 409, response.text
    assert response.json()["owner"] == owner
    assert owner in response.json()["detail"]
    assert revision(client) == before
    assert client.get(f"{path}/second").status_code == 404


def test_a_service_may_keep_its_own_claims(client: TestClient) -> None:
    again = client.put(f"{NS}/services/web", json=spec(SERVICE))
    assert again.status_code == 200


def test_malformed_json_is_400(client: TestClient) -> None:
    response = client.put(
        "/v1/nodes/n1", content=b'{"spec": ', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"


def test_body_over_the_limit_is_413(database_url: str) -> None:
    with api_client(database_url, max_body_bytes=2048) as client:
        big = {"metadata": {"annotations": {"x": "y" * 4000}}, "spec": {"addresses": ["192.0.2.1"]}}
        response = client.put("/v1/nodes/n1", json=big)
        assert response.status_code == 413
        assert response.headers["content-type"] == "application/problem+json"
        assert client.get("/v1/nodes/n1").status_code == 404


def test_invalid_name_in_a_post_body_names_metadata_name(client: TestClient) -> None:
    body = {"metadata": {"name": "Bad_Name"}, "spec": {"addresses": ["192.0.2.1"]}}
    response = client.post("/v1/nodes", json=body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "metadata.name"


def test_path_and_body_names_must_agree(client: TestClient) -> None:
    response = client.put(
        "/v1/nodes/n1", json={"metadata": {"name": "n2"}, "spec": {"addresses": ["192.0.2.1"]}}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "metadata.name"
