"""ClusterIP allocation from SWITCHYARD_SERVICE_CIDRS: single stack, dual stack, headless, kept
across updates, released on delete, never duplicated under concurrent creates."""

from __future__ import annotations

import ipaddress
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from .support import LiveServer, api_client, seed_namespace

NS = "/v1/namespaces/team-a/services"
DUAL = "10.96.0.0/28,fd00:96::/120"
PORTS = {"ports": [{"port": 80}]}


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    with api_client(database_url, service_cidrs=DUAL) as client:
        seed_namespace(client)
        yield client


def create(client: TestClient | httpx.Client, name: str, **spec: Any) -> httpx.Response:
    return client.put(f"{NS}/{name}", json={"spec": {**PORTS, **spec}})


def test_single_stack_by_default_from_the_first_cidr(client: TestClient) -> None:
    first = create(client, "a").json()["spec"]
    second = create(client, "b").json()["spec"]
    assert first["clusterIP"] == first["clusterIPs"][0]
    assert first["ipFamilies"] == ["IPv4"] and first["ipFamilyPolicy"] == "SingleStack"
    addresses = {first["clusterIP"], second["clusterIP"]}
    assert len(addresses) == 2
    assert all(ipaddress.ip_address(a) in ipaddress.ip_network("10.96.0.0/28") for a in addresses)


def test_dual_stack_policies_and_families(client: TestClient) -> None:
    prefer = create(client, "prefer", ipFamilyPolicy="PreferDualStack").json()["spec"]
    assert prefer["ipFamilies"] == ["IPv4", "IPv6"] and len(prefer["clusterIPs"]) == 2
    assert ipaddress.ip_address(prefer["clusterIPs"][1]) in ipaddress.ip_network("fd00:96::/120")
    v6 = create(client, "v6", ipFamilies=["IPv6"]).json()["spec"]
    assert v6["ipFamilies"] == ["IPv6"] and ":" in v6["clusterIP"]
    v6_first = create(
        client, "v6first", ipFamilies=["IPv6", "IPv4"], ipFamilyPolicy="RequireDualStack"
    ).json()["spec"]
    assert [":" in a for a in v6_first["clusterIPs"]] == [True, False]
    single_two = create(client, "bad", ipFamilies=["IPv4", "IPv6"], ipFamilyPolicy="SingleStack")
    assert single_two.status_code == 422
    assert single_two.json()["errors"][0]["field"] == "spec.ipFamilies"


def test_require_dual_stack_needs_both_cidrs(database_url: str) -> None:
    with api_client(database_url) as client:  # default: 10.96.0.0/12 only
        seed_namespace(client)
        response = create(client, "dual", ipFamilyPolicy="RequireDualStack")
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "spec.ipFamilyPolicy"
        prefer = create(client, "prefer", ipFamilyPolicy="PreferDualStack").json()["spec"]
        assert prefer["ipFamilies"] == ["IPv4"]
        assert client.get(f"{NS}/dual").status_code == 404


def test_headless_service_has_no_frontend_address(client: TestClient) -> None:
    headless = create(client, "db", clusterIP="None").json()["spec"]
    assert headless["clusterIP"] == "None" and headless["clusterIPs"] == []
    also = create(client, "db2", clusterIPs=["None"])
    assert also.status_code == 201 and also.json()["spec"]["clusterIP"] == "None"
    node_port = create(client, "np", clusterIP="None", type="NodePort")
    assert node_port.status_code == 422


def test_allocation_survives_updates_and_is_released_on_delete(client: TestClient) -> None:
    spec = create(client, "a", ipFamilyPolicy="PreferDualStack").json()["spec"]
    updated = create(client, "a", ports=[{"port": 8080}]).json()["spec"]  # addresses left out
    assert updated["clusterIPs"] == spec["clusterIPs"]
    assert updated["ipFamilyPolicy"] == "PreferDualStack"
    downgraded = create(client, "a", ipFamilyPolicy="SingleStack").json()["spec"]
    assert downgraded["clusterIPs"] == spec["clusterIPs"][:1]
    assert client.delete(f"{NS}/a").status_code == 200
    again = create(client, "b", clusterIP=spec["clusterIP"])
    assert again.status_code == 201, again.text


def test_requested_addresses_outside_or_taken(client: TestClient) -> None:
    outside = create(client, "a", clusterIP="10.97.0.1")
    assert outside.status_code == 422
    assert outside.json()["errors"][0]["field"] == "spec.clusterIPs[0]"
    create(client, "owner", clusterIP="10.96.0.5").raise_for_status()
    taken = create(client, "b", clusterIP="10.96.0.5", ports=[{"port": 443}])
    assert taken.status_code == 409 and taken.json()["owner"] == "Service team-a/owner"
    mismatch = create(client, "c", clusterIP="10.96.0.6", clusterIPs=["10.96.0.7"])
    assert mismatch.status_code == 422
    assert mismatch.json()["errors"][0]["field"] == "spec.clusterIPs[0]"
    # The allocator skips requested addresses: the /28 has 14 usable ones; 'owner' holds one.
    names = [f"s{i}" for i in range(13)]
    assert all(create(client, n).status_code == 201 for n in names)
    full = create(client, "one-too-many")
    assert full.status_code == 409 and "no free cluster IP" in full.json()["detail"]


def test_twenty_concurrent_creates_never_collide(fresh_postgres_url: str) -> None:
    with LiveServer(fresh_postgres_url, service_cidrs=DUAL) as server:
        seed_namespace(server.client())

        def one(index: int) -> httpx.Response:
            with server.client() as client:
                return create(client, f"svc-{index}", ipFamilyPolicy="PreferDualStack")

        with ThreadPoolExecutor(max_workers=20) as pool:
            responses = list(pool.map(one, range(20)))
        assert Counter(r.status_code for r in responses) == Counter({201: 14, 409: 6})
        addresses = [
            a for r in responses if r.status_code == 201 for a in r.json()["spec"]["clusterIPs"]
        ]
        assert len(addresses) == len(set(addresses)) == 28


def test_twenty_concurrent_creates_in_a_large_cidr(fresh_postgres_url: str) -> None:
    with LiveServer(fresh_postgres_url) as server:
        seed_namespace(server.client())

        def one(index: int) -> httpx.Response:
            with server.client() as client:
                return create(client, f"svc-{index}")

        with ThreadPoolExecutor(max_workers=20) as pool:
            responses = list(pool.map(one, range(20)))
        assert [r.status_code for r in responses] == [201] * 20
        addresses = {r.json()["spec"]["clusterIP"] for r in responses}
        assert len(addresses) == 20


def test_dual_stack_and_headless_selector_services_list_their_families(
    client: TestClient,
) -> None:
    pod = {"nodeName": "n1", "podIPs": ["10.1.1.5", "fd00:1::5"]}
    client.put("/v1/nodes/n1", json={"spec": {"addresses": ["192.0.2.1"]}}).raise_for_status()
    client.put(
        "/v1/namespaces/team-a/pods/web-1",
        json={"metadata": {"labels": {"app": "web"}}, "spec": pod},
    ).raise_for_status()
    selector = {"app": "web"}
    create(client, "dual", selector=selector, ipFamilyPolicy="RequireDualStack").raise_for_status()
    dual = client.get(f"{NS}/dual/endpoints").json()
    assert dual["addressType"] == "DualStack"
    assert [e["addresses"] for e in dual["endpoints"]] == [["10.1.1.5", "fd00:1::5"]]
    create(client, "v6", selector=selector, ipFamilies=["IPv6"]).raise_for_status()
    v6 = client.get(f"{NS}/v6/endpoints").json()
    assert v6["addressType"] == "IPv6" and v6["endpoints"][0]["addresses"] == ["fd00:1::5"]
    create(client, "headless", selector=selector, clusterIP="None").raise_for_status()
    headless = client.get(f"{NS}/headless/endpoints").json()
    assert headless["endpoints"][0]["targetRef"]["name"] == "web-1"
