"""The published patterns are the server's rules: what one accepts, the other does too; and the
inputs the schema now excludes are refused by the server with a precise problem."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from switchyard_api.resources import patterns
from switchyard_api.resources.common import check_label_key
from switchyard_api.resources.selector_syntax import parse_label_selector

from .support import api_client


@settings(max_examples=500, deadline=None)
@given(st.from_regex(patterns.IP, fullmatch=True))
def test_every_address_the_pattern_admits_parses(text: str) -> None:
    ipaddress.ip_address(text)


@settings(max_examples=500, deadline=None)
@given(st.ip_addresses())
def test_every_address_matches_the_pattern_in_both_spellings(address: object) -> None:
    assert isinstance(address, ipaddress.IPv4Address | ipaddress.IPv6Address)
    for text in {str(address), address.exploded}:
        assert patterns.matches(patterns.IP, text), text


@settings(max_examples=300, deadline=None)
@given(st.from_regex(patterns.LABEL_SELECTOR, fullmatch=True))
def test_every_selector_the_pattern_admits_parses(text: str) -> None:
    try:
        parse_label_selector(text)
    except ValueError as exc:  # the one bound the pattern cannot carry: a prefix over 253
        assert "subdomain" in str(exc), (text, exc)


@settings(max_examples=300, deadline=None)
@given(st.from_regex(patterns.LABEL_KEY, fullmatch=True))
def test_label_keys_agree(key: str) -> None:
    ok = patterns.matches(patterns.LABEL_KEY_LENGTHS, key)
    try:
        check_label_key(key)
        assert ok, key
    except ValueError:
        assert not ok, key


@pytest.fixture
def client(fresh_postgres_url: str) -> Iterator[TestClient]:
    with api_client(fresh_postgres_url) as client:
        yield client


NODE = {"spec": {"addresses": ["192.0.2.1"]}}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"spec": {"addresses": ["fe80::1%eth0"]}}, "spec.addresses[0]"),
        ({"spec": {"addresses": ["192.0.2.1"]}, "metadata": {"labels": {"a": "b\n"}}}, "metadata"),
        ({"spec": {"addresses": ["192.0.2.1"], "podCIDRs": ["10.0.0.0/08"]}}, "spec.podCIDRs[0]"),
        ({**NODE, "metadata": {"resourceVersion": "abc"}}, "metadata.resourceVersion"),
        ({**NODE, "metadata": {"namespace": "x"}}, "metadata.namespace"),
    ],
    ids=["zone-index", "newline-in-label", "leading-zero-prefix", "resource-version", "ns"],
)
def test_what_the_schema_excludes_the_server_refuses(
    client: TestClient, body: dict[str, object], field: str
) -> None:
    response = client.put("/v1/nodes/n1", json=body)
    assert response.status_code == 422, response.text
    assert any(e["field"].startswith(field) for e in response.json()["errors"]), response.text
    assert client.get("/v1/nodes/n1").status_code == 404


def test_a_name_with_a_trailing_newline_is_refused(client: TestClient) -> None:
    response = client.post("/v1/nodes", json={"metadata": {"name": "n1\n"}, **NODE})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "metadata.name"


def test_an_unknown_query_parameter_is_an_error_not_ignored(client: TestClient) -> None:
    response = client.get("/v1/nodes", params={"labelselector": "a=b"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "labelselector"
    assert client.get("/v1/nodes", params={"labelSelector": "a=b", "limit": 5}).status_code == 200


def test_if_match_must_name_a_resource_version(client: TestClient) -> None:
    client.put("/v1/nodes/n1", json=NODE).raise_for_status()
    for bad in ("", "abc", '"1", "2"'):
        response = client.put("/v1/nodes/n1", json=NODE, headers={"If-Match": bad})
        assert response.status_code == 400, (bad, response.text)
    assert client.put("/v1/nodes/n1", json=NODE, headers={"If-Match": "*"}).status_code == 200


def test_a_node_token_needs_its_node_and_others_take_none(client: TestClient) -> None:
    missing = client.post("/v1/tokens", json={"role": "node"})
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "node"
    bound = client.post("/v1/tokens", json={"role": "reader", "node": "n1"})
    assert bound.status_code == 422 and bound.json()["errors"][0]["field"] == "node"
