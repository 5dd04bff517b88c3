"""The adapter's view of Switchyard over its public REST API: read the objects, make writes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from .objects import COLLECTIONS, Key, is_managed
from .plan import Write

PAGE = 500
NAMESPACED = ("pods", "services", "network-policies")
KIND_OF = {plural: kind for kind, plural in COLLECTIONS.items()}


class Unavailable(Exception):
    """Switchyard did not answer, or answered 5xx: retry later, with backoff."""


class Stale(Exception):
    """The stored object changed under the adapter (412): re-read Switchyard and plan again."""


@dataclass
class Rejected(Exception):
    """Switchyard refused the document (4xx): reported, and not retried until it changes."""

    status: int
    detail: str

    def __str__(self) -> str:
        return f"{self.status}: {self.detail}"


def _check(response: httpx.Response) -> None:
    if response.status_code >= 500:
        raise Unavailable(
            f"{response.request.method} {response.request.url.path}: HTTP {response.status_code}"
        )
    if response.status_code == 412:
        raise Stale(_detail(response))
    if response.status_code >= 400:
        raise Rejected(response.status_code, _detail(response))


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:500]
    if isinstance(body, dict):
        detail = str(body.get("detail") or body.get("title") or "")
        if body.get("owner"):
            detail += f" (owner: {body['owner']})"
        return detail
    return str(body)[:500]


class SwitchyardClient:
    def __init__(self, url: str, token: str, timeout: float = 10.0) -> None:
        self.http = httpx.AsyncClient(
            base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=timeout
        )

    async def close(self) -> None:
        await self.http.aclose()

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return await self.http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise Unavailable(f"{method} {path}: {type(exc).__name__}: {exc}") from exc

    async def _list(self, path: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        params: dict[str, Any] = {"limit": PAGE}
        while True:
            response = await self._request("GET", path, params=params)
            _check(response)
            body = response.json()
            items += body.get("items") or []
            cursor = (body.get("metadata") or {}).get("continue")
            if not cursor:
                return items
            params["continue"] = cursor

    async def view(self) -> dict[Key, dict[str, Any]]:
        """Every object of the kinds the adapter writes (its own and others', so that it can
        tell a free name from a taken one), plus the endpoints of its own services."""
        stored: dict[Key, dict[str, Any]] = {}
        for plural in ("namespaces", "nodes"):
            for doc in await self._list(f"/v1/{plural}"):
                stored[Key(KIND_OF[plural], "", doc["metadata"]["name"])] = doc
        namespaces = [k.name for k in stored if k.kind == "Namespace"]
        for ns in namespaces:
            for plural in NAMESPACED:
                for doc in await self._list(f"/v1/namespaces/{ns}/{plural}"):
                    stored[Key(KIND_OF[plural], ns, doc["metadata"]["name"])] = doc
        for key, doc in list(stored.items()):
            if key.kind == "Service" and is_managed(doc):
                endpoints_key = Key("EndpointSlice", key.namespace, key.name)
                response = await self._request("GET", endpoints_key.path)
                if response.status_code == 404:
                    continue
                _check(response)
                stored[endpoints_key] = response.json()
        return stored

    async def apply(self, write: Write) -> dict[str, Any] | None:
        """Make one write; the stored document afterwards (None after a delete)."""
        if write.verb == "status":
            assert write.desired is not None
            condition = {"type": "Ready", "status": "True" if write.desired.ready else "False"}
            body = {"status": {"conditions": [condition]}}
            response = await self._request(
                "PATCH",
                write.key.status_path,
                json=body,
                headers={"Content-Type": "application/merge-patch+json"},
            )
            _check(response)
            status_document: dict[str, Any] = response.json()
            return status_document
        headers: dict[str, str] = {}
        if write.resource_version is not None:
            headers["If-Match"] = f'"{write.resource_version}"'
        elif write.verb == "create" and write.key.kind != "EndpointSlice":
            headers["If-None-Match"] = "*"  # never replace an object someone else just made
        if write.verb == "delete":
            response = await self._request("DELETE", write.key.path, headers=headers)
            if response.status_code != 404:  # already gone is what was wanted
                _check(response)
            return None
        assert write.desired is not None
        response = await self._request(
            "PUT", write.key.path, json=write.desired.body(), headers=headers
        )
        _check(response)
        document: dict[str, Any] = response.json()
        return document
