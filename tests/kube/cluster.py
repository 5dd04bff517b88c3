"""A mock Kubernetes API: kmock's stateful emulator, given the watch semantics the adapter
relies on: a resourceVersion on every change, WATCH from a resourceVersion, bookmarks, server
timeouts, 410 Gone for a compacted version, and watches that break.

Objects are real Kubernetes JSON; changes made over HTTP (as any client would) become watch
events, objects loaded with `load` are the state before the adapter starts.
"""

from __future__ import annotations

import asyncio
import copy
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import attrs
import kmock
import yaml
from kmock._internal import enums, references, rendering

# kmock reads /api/v1/namespaces[/NAME] as a namespace prefix, not as the Namespace resource:
# the mock serves Namespaces under this plural and rewrites those paths to it.
NAMESPACE_PLURAL = "clusternamespaces"
RESOURCES = {
    "Namespace": (f"v1/{NAMESPACE_PLURAL}", False),
    "Node": ("v1/nodes", False),
    "Pod": ("v1/pods", True),
    "Service": ("v1/services", True),
    "EndpointSlice": ("discovery.k8s.io/v1/endpointslices", True),
    "NetworkPolicy": ("networking.k8s.io/v1/networkpolicies", True),
    "Event": ("v1/events", True),
}


def collection_path(kind: str, namespace: str | None) -> str:
    if kind == "Namespace":
        return "/api/v1/namespaces"
    resource, namespaced = RESOURCES[kind]
    group_version, plural = resource.rsplit("/", 1)
    prefix = "/api/v1" if group_version == "v1" else f"/apis/{group_version}"
    if namespaced and namespace:
        return f"{prefix}/namespaces/{namespace}/{plural}"
    return f"{prefix}/{plural}"


def status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


@attrs.define(kw_only=True)
class Cluster(kmock.KubernetesEmulator):
    revision: int = attrs.field(default=0, init=False)
    # (resourceVersion, resource, event) of every change made over HTTP, oldest first.
    history: list[tuple[int, Any, dict[str, Any]]] = attrs.field(factory=list, init=False)
    compacted: int = attrs.field(default=0, init=False)  # a watch from at or below: 410
    bookmark_seconds: float = attrs.field(default=0.3, init=False)
    tick: asyncio.Event = attrs.field(factory=asyncio.Event, init=False)
    breaks: int = attrs.field(default=0, init=False)  # bumped to end every open watch
    break_with: dict[str, Any] = attrs.field(factory=dict, init=False)
    watches_started: int = attrs.field(default=0, init=False)
    refuse_watches: bool = attrs.field(default=False, init=False)  # every watch fails (500)
    # One write at a time, so that resourceVersions follow the order of the history.
    write_lock: asyncio.Lock = attrs.field(factory=asyncio.Lock, init=False)

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        for resource, _ in RESOURCES.values():
            self.resources[resource] = {}

    async def __call__(self, raw_request: aiohttp.web.BaseRequest) -> aiohttp.web.StreamResponse:
        url = raw_request.rel_url
        parts = url.path.strip("/").split("/")
        if parts[:3] == ["api", "v1", "namespaces"] and len(parts) <= 4:
            path = "/".join(["", "api", "v1", NAMESPACE_PLURAL, *parts[3:]])
            url = url.with_path(path).with_query(url.query)
        # Kubernetes reads booleans as Go does ("True" too); kmock knows only "true".
        booleans = {k: v.lower() for k, v in url.query.items() if v in ("True", "False")}
        if booleans:
            url = url.update_query(booleans)
        if url != raw_request.rel_url:
            raw_request = raw_request.clone(rel_url=url)
        return await super().__call__(raw_request)

    # state before the adapter starts

    def load(self, kind: str, obj: dict[str, Any]) -> None:
        obj = copy.deepcopy(obj)
        meta = obj.setdefault("metadata", {})
        self.revision += 1
        meta["resourceVersion"] = str(self.revision)
        meta.setdefault("uid", str(uuid.uuid4()))
        resource, namespaced = RESOURCES[kind]
        self.objects[resource, meta.get("namespace") if namespaced else None, meta["name"]] = obj

    def delete_unseen(self, kind: str, namespace: str | None, name: str) -> None:
        """Remove an object leaving no watch event behind (its event was compacted away)."""
        resource, _ = RESOURCES[kind]
        self.objects[resource, namespace, name].delete()
        self.revision += 1

    def expire_watches(self) -> None:
        """Compact history up to now and end every open watch with 410 Gone."""
        self.compacted = self.revision
        self._break(status(410, "Expired", "too old resource version"))

    def break_watches(self) -> None:
        """End every open watch with a server error, as a crashing API server would."""
        self._break(status(500, "InternalError", "watch broken by the test"))

    def _break(self, event_object: dict[str, Any]) -> None:
        self.break_with = event_object
        self.breaks += 1
        self._notify()

    def _notify(self) -> None:
        tick, self.tick = self.tick, asyncio.Event()
        tick.set()

    # the emulator, with resourceVersions and history

    async def _handle(self, request: rendering.Request) -> aiohttp.web.StreamResponse:
        writes = (enums.action.CREATE, enums.action.UPDATE, enums.action.DELETE)
        if request.resource is None or request.action not in writes:
            return await super()._handle(request)
        async with self.write_lock:
            return await self._write(request)

    async def _write(self, request: rendering.Request) -> aiohttp.web.StreamResponse:
        version = self.revision + 1
        if request.action != enums.action.DELETE and isinstance(request.data, dict):
            meta = request.data.setdefault("metadata", {})
            meta["resourceVersion"] = str(version)
            if request.action == enums.action.CREATE:
                meta.setdefault("uid", str(uuid.uuid4()))
        response = await super()._handle(request)
        if response.status >= 400:
            return response
        self.revision = version
        name = request.name or (request.data or {}).get("metadata", {}).get("name")
        namespace = request.namespace or (request.data or {}).get("metadata", {}).get("namespace")
        obj = self.objects[request.resource, namespace, name]
        if request.action == enums.action.DELETE:
            raw = copy.deepcopy(obj.last.raw)
            raw["metadata"]["resourceVersion"] = str(version)
            event = {"type": "DELETED", "object": raw}
        else:
            kind = "ADDED" if request.action == enums.action.CREATE else "MODIFIED"
            event = {"type": kind, "object": copy.deepcopy(obj.raw)}
        self.history.append((version, request.resource, event))
        self._notify()
        return response

    async def _serve_list(self, request: rendering.Request) -> rendering.Payload:
        payload = await super()._serve_list(request)
        assert isinstance(payload, dict)
        payload["metadata"] = {"resourceVersion": str(self.revision)}
        return payload

    async def _serve_watch(self, request: rendering.Request) -> AsyncIterator[rendering.Payload]:
        yield b""
        self.watches_started += 1
        assert request.resource is not None
        since = int(request.params.get("resourceVersion") or 0)
        if self.refuse_watches:
            yield {"type": "ERROR", "object": status(500, "InternalError", "watches refused")}
            return
        if since and since < self.compacted:
            yield {"type": "ERROR", "object": status(410, "Expired", "too old resource version")}
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + float(request.params.get("timeoutSeconds") or 3600)
        bookmarks = request.params.get("allowWatchBookmarks", "").lower() == "true"
        breaks = self.breaks
        position = since
        while True:
            for version, resource, event in self.history:
                if version > position and self._wanted(request, resource, event):
                    position = version
                    yield event
            if self.breaks != breaks:
                yield {"type": "ERROR", "object": self.break_with}
                return
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            tick = self.tick
            try:
                await asyncio.wait_for(tick.wait(), min(remaining, self.bookmark_seconds))
            except TimeoutError:
                # A change may have landed as the wait timed out: send it before any bookmark.
                pending = any(
                    v > position and self._wanted(request, r, e) for v, r, e in self.history
                )
                if bookmarks and not pending and self.revision > position:
                    position = self.revision
                    yield {
                        "type": "BOOKMARK",
                        "object": {"metadata": {"resourceVersion": str(position)}},
                    }

    @staticmethod
    def _wanted(request: rendering.Request, resource: Any, event: dict[str, Any]) -> bool:
        if resource != request.resource:
            return False
        namespace = event["object"].get("metadata", {}).get("namespace")
        return request.namespace is None or namespace == request.namespace

    def stored(self, kind: str) -> list[dict[str, Any]]:
        resource = references.resource(RESOURCES[kind][0])
        return [o.raw for (r, _, _), o in self.objects.items() if r == resource and not o.deleted]


def write_kubeconfig(path: Path, url: str) -> Path:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "mock", "cluster": {"server": url}}],
        "users": [{"name": "adapter", "user": {"token": "mock-cluster-token"}}],
        "contexts": [{"name": "mock", "context": {"cluster": "mock", "user": "adapter"}}],
        "current-context": "mock",
    }
    path.write_text(yaml.safe_dump(config))
    return path


class ClusterClient:
    """Changes to the mock cluster over HTTP, as kubectl would make them."""

    def __init__(self, url: str) -> None:
        self.session = aiohttp.ClientSession(base_url=url)

    async def close(self) -> None:
        await self.session.close()

    async def create(self, kind: str, obj: dict[str, Any]) -> None:
        namespace = obj.get("metadata", {}).get("namespace")
        async with self.session.post(collection_path(kind, namespace), json=obj) as response:
            assert response.status < 300, await response.text()

    async def patch(
        self, kind: str, namespace: str | None, name: str, patch: dict[str, Any]
    ) -> None:
        path = f"{collection_path(kind, namespace)}/{name}"
        headers = {"Content-Type": "application/merge-patch+json"}
        async with self.session.patch(path, json=patch, headers=headers) as response:
            assert response.status < 300, await response.text()

    async def delete(self, kind: str, namespace: str | None, name: str) -> None:
        async with self.session.delete(f"{collection_path(kind, namespace)}/{name}") as response:
            assert response.status < 300, await response.text()
