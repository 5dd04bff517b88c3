"""Reading Switchyard in kube tests: what the adapter mirrored, by kind."""

from __future__ import annotations

from typing import Any

import httpx

NAMESPACED = {"Pod": "pods", "Service": "services", "NetworkPolicy": "network-policies"}


def items(client: httpx.Client, path: str) -> list[dict[str, Any]]:
    response = client.get(path)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["items"]
    return found


def names(client: httpx.Client, kind: str, namespace: str = "") -> set[str]:
    """Names of the objects of a kind ("ns/name" for namespaced kinds across namespaces)."""
    if kind == "Namespace":
        return {d["metadata"]["name"] for d in items(client, "/v1/namespaces")}
    if kind == "Node":
        return {d["metadata"]["name"] for d in items(client, "/v1/nodes")}
    spaces = [namespace] if namespace else sorted(names(client, "Namespace"))
    return {
        f"{ns}/{d['metadata']['name']}"
        for ns in spaces
        for d in items(client, f"/v1/namespaces/{ns}/{NAMESPACED[kind]}")
    }


def get(client: httpx.Client, path: str) -> dict[str, Any] | None:
    response = client.get(path)
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


def revision(client: httpx.Client) -> int:
    response = client.get("/v1/status")
    assert response.status_code == 200, response.text
    value: int = response.json()["revision"]
    return value


def mirrored_pods(client: httpx.Client) -> set[str]:
    return names(client, "Pod")
