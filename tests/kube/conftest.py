"""Fixtures: the mock cluster (kmock) loaded with the sample, a live switchyard-api on
PostgreSQL, and adapters running in the test's event loop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import kmock
import pytest

from switchyard_kube.adapter import Adapter
from switchyard_kube.kube import KubeClient, load_api_client
from switchyard_kube.settings import Settings
from switchyard_kube.switchyard import SwitchyardClient
from tests.api.support import ADMIN_TOKEN, LiveServer
from tests.kube import sample
from tests.kube.cluster import Cluster, ClusterClient, write_kubeconfig


@dataclass
class MockCluster:
    handler: Cluster
    url: str
    kubeconfig: Path
    client: ClusterClient


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[MockCluster]:
    handler = Cluster()
    for kind, obj in sample.cluster_objects():
        handler.load(kind, obj)
    async with handler, kmock.Server(handler) as server:
        url = str(server.url).rstrip("/")
        client = ClusterClient(url)
        try:
            yield MockCluster(handler, url, write_kubeconfig(tmp_path / "kubeconfig", url), client)
        finally:
            await client.close()


@pytest.fixture
def api(fresh_postgres_url: str) -> Iterator[LiveServer]:
    with LiveServer(fresh_postgres_url) as server:
        yield server


@pytest.fixture
def switchyard(api: LiveServer) -> Iterator[httpx.Client]:
    with api.client() as client:
        yield client


def settings_for(cluster: MockCluster, url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "switchyard_url": url,
        "token": ADMIN_TOKEN,
        "kubeconfig": str(cluster.kubeconfig),
        "bgp_asn": 65010,
        "watch_timeout_seconds": 30,
    }
    values.update(overrides)
    return Settings(**values)


@contextlib.asynccontextmanager
async def running_adapter(settings: Settings) -> AsyncIterator[Adapter]:
    """An adapter watching the mock cluster, stopped (cancelled) on exit."""
    kube = KubeClient(await load_api_client(settings.kubeconfig, None))
    switchyard = SwitchyardClient(settings.switchyard_url, settings.token)
    adapter = Adapter(settings, kube, switchyard)
    task = asyncio.create_task(adapter.run())
    try:
        yield adapter
    finally:
        if task.done():  # the adapter must never stop by itself: surface why it did
            task.result()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await switchyard.close()
        await kube.close()


async def eventually(check: Any, timeout: float = 20.0, interval: float = 0.1) -> Any:
    """Poll check() (sync or async) until it returns a truthy value; fail after timeout."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout} s: {check}")
        await asyncio.sleep(interval)
