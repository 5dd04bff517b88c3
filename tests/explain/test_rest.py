"""POST /v1/explain over HTTP: read-your-writes, problem+json for bad input, reader role."""

from __future__ import annotations

from typing import Any

from tests.api.support import api_client


def seed(client: Any) -> None:
    client.put("/v1/namespaces/x", json={"spec": {}}).raise_for_status()
    node = {"spec": {"addresses": ["192.0.2.1"], "uplinkInterface": "uplink0"}}
    client.put("/v1/nodes/n1", json=node).raise_for_status()
    for name, ip in (("a", "10.1.1.2"), ("b", "10.1.1.3")):
        pod = {
            "metadata": {"labels": {"pod": name}},
            "spec": {"nodeName": "n1", "podIPs": [ip], "interface": f"tap-{name}"},
        }
        client.put(f"/v1/namespaces/x/pods/{name}", json=pod).raise_for_status()
    service = {"spec": {"clusterIPs": ["10.96.0.10"], "ports": [{"port": 80}]}}
    client.put("/v1/namespaces/x/services/web", json=service).raise_for_status()
    slice_ = {"endpoints": [{"addresses": ["10.1.1.3"], "targetRef": {"name": "b"}}]}
    client.put("/v1/namespaces/x/services/web/endpoints", json=slice_).raise_for_status()


def test_explain_over_rest_sees_the_write_just_made(fresh_postgres_url: str) -> None:
    with api_client(fresh_postgres_url) as client:
        seed(client)
        flow = {"from": {"pod": "x/a"}, "to": {"service": "x/web"}, "port": 80}
        response = client.post("/v1/explain", json=flow)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["verdict"] == "allowed"
        assert body["translation"]["key"] == "frontend/TCP/10.96.0.10/80"
        assert body["paths"][0]["destination"]["pod"] == "x/b"
        deny = {"spec": {"podSelector": {"matchLabels": {"pod": "b"}}, "policyTypes": ["Ingress"]}}
        client.put("/v1/namespaces/x/network-policies/deny", json=deny).raise_for_status()
        after = client.post("/v1/explain", json=flow).json()
        assert after["verdict"] == "denied"
        step = after["paths"][0]["steps"][-1]
        assert step["policies"] == ["x/deny"] and step["interface"] == "tap-b"


def test_bad_explain_requests_are_problems_naming_the_field(fresh_postgres_url: str) -> None:
    with api_client(fresh_postgres_url) as client:
        seed(client)
        cases = [
            ({"from": {"pod": "x/nope"}, "to": {"pod": "x/a"}, "port": 80}, "from.pod"),
            ({"from": {"pod": "x/a"}, "to": {"pod": "x/b"}}, "port"),
            ({"from": {"pod": "x/a", "ip": "10.0.0.1"}, "to": {"pod": "x/b"}, "port": 1}, "from"),
            ({"from": {"ip": "not-an-ip"}, "to": {"pod": "x/b"}, "port": 1}, "from.ip"),
            ({"from": {"pod": "x/a"}, "to": {"pod": "x/b"}, "port": 70000}, "port"),
        ]
        for body, field in cases:
            response = client.post("/v1/explain", json=body)
            assert response.status_code == 422, (body, response.text)
            assert response.headers["content-type"].startswith("application/problem+json")
            assert field in response.text, (field, response.text)
        assert client.post(
            "/v1/explain", content=b"{", headers={"content-type": "application/json"}
        ).status_code in (400, 422)
        anonymous = client.post("/v1/explain", json=cases[0][0], headers={"Authorization": ""})
        assert anonymous.status_code == 401
