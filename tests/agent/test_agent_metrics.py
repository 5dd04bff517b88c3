"""Agent metrics and the local /healthz and /metrics endpoints, over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from switchyard_agent.health_server import HealthServer
from switchyard_agent.metrics import AgentMetrics
from switchyard_agent.reconciler import ApplyResult, Failure, Reconciler
from switchyard_contract.nodeconfig import Acl, SnatConfig

from . import config, rig

ACL = Acl("a" * 8, ())
SNAT = SnatConfig("192.0.2.10", None, ())


def sample(metrics: AgentMetrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


def test_apply_results_feed_the_metrics_and_health() -> None:
    metrics = AgentMetrics()
    assert metrics.health() == {"status": "starting", "appliedRevision": None, "lastError": None}
    r = rig()
    reconciler = Reconciler(r.driver.descriptors, observer=metrics, sleep=lambda _: None)

    r.driver.vpp.fail(key=SNAT.key, message="bad address")
    reconciler.apply_snapshot(7, config(ACL, SNAT))
    assert sample(metrics, "switchyard_agent_applied_revision") == 7
    assert sample(metrics, "switchyard_agent_apply_failures_total", kind="snat") == 1
    assert sample(metrics, "switchyard_agent_objects", kind="acl") == 1
    assert sample(metrics, "switchyard_agent_apply_duration_seconds_count") == 1
    health = metrics.health()
    assert health["status"] == "degraded" and health["appliedRevision"] == 7
    assert health["lastError"] == "snat: create failed: bad address (create snat)"

    r.driver.vpp.clear_faults()
    reconciler.apply_snapshot(8, {})  # the next good state clears the error
    assert metrics.health() == {"status": "ok", "appliedRevision": 8, "lastError": None}
    assert sample(metrics, "switchyard_agent_objects", kind="acl") == 0
    assert sample(metrics, "switchyard_agent_apply_failures_total", kind="snat") == 1

    metrics.record_reconnect()
    metrics.record_reconnect("vpp")
    assert sample(metrics, "switchyard_agent_reconnects_total", target="controller") == 1
    assert sample(metrics, "switchyard_agent_reconnects_total", target="vpp") == 1


def test_last_error_summarises_many_failures_and_disconnects() -> None:
    metrics = AgentMetrics()
    failures = (Failure("acl/x", "boom"), Failure("acl/y", "bang"))
    metrics.on_apply(ApplyResult(3, failures=failures), 0.01, {})
    assert metrics.health()["lastError"] == "acl/x: boom (+1 more)"
    metrics.on_apply(ApplyResult(4, suspended=("vpp",)), 0.01, {})
    assert metrics.health() == {
        "status": "degraded",
        "appliedRevision": 4,
        "lastError": "disconnected from vpp",
    }


@pytest.fixture
async def served() -> AsyncIterator[tuple[AgentMetrics, httpx.AsyncClient]]:
    metrics = AgentMetrics()
    server = HealthServer(metrics, port=0)
    await server.start()
    try:
        base = f"http://127.0.0.1:{server.port}"
        async with httpx.AsyncClient(base_url=base, timeout=5) as client:
            yield metrics, client
    finally:
        await server.stop()


async def test_healthz_and_metrics_over_http(
    served: tuple[AgentMetrics, httpx.AsyncClient],
) -> None:
    metrics, client = served
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "starting", "appliedRevision": None, "lastError": None}

    r = rig()
    reconciler = Reconciler(r.driver.descriptors, observer=metrics)
    reconciler.apply_snapshot(12, config(ACL))
    response = await client.get("/healthz")
    assert response.json() == {"status": "ok", "appliedRevision": 12, "lastError": None}

    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    body = response.text
    assert "switchyard_agent_applied_revision 12.0" in body
    assert 'switchyard_agent_objects{kind="acl"} 1.0' in body
    assert "switchyard_agent_apply_duration_seconds_bucket" in body
    assert "# TYPE switchyard_agent_reconnects_total counter" in body

    assert (await client.get("/nope")).status_code == 404
