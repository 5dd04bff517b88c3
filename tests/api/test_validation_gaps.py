"""Validation gaps found by a held-out check: each is a 422 with exactly one error naming the
offending leaf, never pydantic internals, and nothing is stored."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from .support import NS, api_client, seed_namespace

MERGE = {"Content-Type": "application/merge-patch+json"}


def peer_block(cidr: str, *excepts: str) -> dict[str, Any]:
    block: dict[str, Any] = {"cidr": cidr}
    if excepts:
        block["except"] = list(excepts)
    return {"podSelector": {}, "ingress": [{"from": [{"ipBlock": block}]}]}


CASES: list[tuple[str, str, dict[str, Any], str]] = [
    (
        "except equal to cidr",
        "network-policies",
        peer_block("10.0.0.0/8", "10.1.0.0/16", "10.0.0.0/8"),
        "spec.ingress[0].from[0].ipBlock.except[1]",
    ),
    (
        "cidr without a prefix length",
        "network-policies",
        peer_block("10.0.0.1"),
        "spec.ingress[0].from[0].ipBlock.cidr",
    ),
    (
        "policy port as a digits-only string",
        "network-policies",
        {"podSelector": {}, "ingress": [{"ports": [{"port": "8080"}]}]},
        "spec.ingress[0].ports[0].port",
    ),
    (
        "endPort below port",
        "network-policies",
        {"podSelector": {}, "egress": [{"ports": [{"port": 90, "endPort": 80}]}]},
        "spec.egress[0].ports[0].endPort",
    ),
    (
        "endPort with a named port",
        "network-policies",
        {"podSelector": {}, "egress": [{"ports": [{"port": "http", "endPort": 80}]}]},
        "spec.egress[0].ports[0].endPort",
    ),
    (
        "In without values",
        "network-policies",
        {"podSelector": {"matchExpressions": [{"key": "app", "operator": "In"}]}},
        "spec.podSelector.matchExpressions[0].values",
    ),
    (
        "Exists with values",
        "network-policies",
        {
            "podSelector": {
                "matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]
            }
        },
        "spec.podSelector.matchExpressions[0].values",
    ),
    (
        "service targetPort as a digits-only string",
        "services",
        {"ports": [{"port": 80, "targetPort": "8080"}]},
        "spec.ports[0].targetPort",
    ),
    (
        "service port number out of range",
        "services",
        {"ports": [{"port": 80, "targetPort": 70000}]},
        "spec.ports[0].targetPort",
    ),
]


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    with api_client(database_url) as client:
        seed_namespace(client)
        yield client


def revision(client: TestClient) -> int:
    value: int = client.get("/v1/status").json()["revision"]
    return value


@pytest.mark.parametrize(
    ("plural", "spec", "field"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_gap_is_one_422_naming_the_leaf(
    client: TestClient, plural: str, spec: dict[str, Any], field: str
) -> None:
    before = revision(client)
    created = client.post(f"{NS}/{plural}", json={"metadata": {"name": "x"}, "spec": spec})
    assert created.status_code == 422, created.text
    errors = created.json()["errors"]
    assert [e["field"] for e in errors] == [field], errors
    assert field in created.json()["detail"]
    for internal in ("constrained-int", "function-after", "function-plain", "[int]", "str]"):
        assert internal not in created.text
    assert client.get(f"{NS}/{plural}/x").status_code == 404
    assert revision(client) == before


@pytest.mark.parametrize(
    ("plural", "spec", "field"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_gap_through_a_merge_patch_too(
    client: TestClient, plural: str, spec: dict[str, Any], field: str
) -> None:
    """The writer validates the merged document: same leaf, and the stored object stays."""
    valid = {"ports": [{"port": 80}]} if plural == "services" else {"podSelector": {}}
    client.put(f"{NS}/{plural}/x", json={"spec": valid}).raise_for_status()
    stored = client.get(f"{NS}/{plural}/x").json()
    patched = client.patch(f"{NS}/{plural}/x", json={"spec": spec}, headers=MERGE)
    assert patched.status_code == 422, patched.text
    assert [e["field"] for e in patched.json()["errors"]] == [field]
    assert client.get(f"{NS}/{plural}/x").json()["metadata"] == stored["metadata"]


def test_numbers_and_names_still_work(client: TestClient) -> None:
    spec = {
        "podSelector": {},
        "ingress": [{"ports": [{"port": 8080}, {"port": "http"}, {"port": 80, "endPort": 90}]}],
    }
    assert (
        client.post(
            f"{NS}/network-policies", json={"metadata": {"name": "ok"}, "spec": spec}
        ).status_code
        == 201
    )
