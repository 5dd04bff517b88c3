"""The distribution server speaking to a raw gRPC client: auth, snapshot, delta, ACK/NACK,
status over REST."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from switchyard.v1 import distribution_pb2 as dpb
from switchyard.v1 import distribution_pb2_grpc as dgrpc
from switchyard_contract.codec import delta_from_proto, snapshot_from_proto
from tests.waiting import wait_for

from ..api.support import LiveServer

NODE_SPEC = {"spec": {"addresses": ["192.0.2.1"], "podCIDRs": ["10.1.1.0/24"]}}
SERVICE = {"spec": {"clusterIPs": ["10.96.0.10"], "ports": [{"port": 80, "targetPort": 8080}]}}


def seed(client: httpx.Client, nodes: tuple[str, ...] = ("n1", "n2")) -> dict[str, str]:
    client.put("/v1/namespaces/default", json={"spec": {}}).raise_for_status()
    tokens = {}
    for index, node in enumerate(nodes, start=1):
        spec = {"spec": {"addresses": [f"192.0.2.{index}"], "podCIDRs": [f"10.1.{index}.0/24"]}}
        client.put(f"/v1/nodes/{node}", json=spec).raise_for_status()
        created = client.post("/v1/tokens", json={"role": "node", "node": node})
        created.raise_for_status()
        tokens[node] = created.json()["token"]
    client.put("/v1/namespaces/default/services/web", json=SERVICE).raise_for_status()
    return tokens


class RawAgent:
    """Just enough of an agent to drive the stream by hand."""

    def __init__(self, port: int, token: str) -> None:
        self.channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
        self.stub = dgrpc.DistributionStub(self.channel)
        self.outbox: asyncio.Queue[dpb.AgentMessage | None] = asyncio.Queue()
        self.call = self.stub.Connect(
            self._requests(), metadata=[("authorization", f"Bearer {token}")]
        )

    async def _requests(self) -> AsyncIterator[dpb.AgentMessage]:
        while (message := await self.outbox.get()) is not None:
            yield message

    async def send(self, **kwargs: Any) -> None:
        await self.outbox.put(dpb.AgentMessage(**kwargs))

    async def hello(self, node: str, last: int | None = None) -> None:
        hello = dpb.Hello(node=node, agent_version="test")
        if last is not None:
            hello.last_applied_revision = last
        await self.send(hello=hello)

    async def receive(self) -> dpb.ControllerMessage:
        message = await asyncio.wait_for(self.call.read(), 10)
        assert message is not grpc.aio.EOF
        return message  # type: ignore[return-value]

    async def close(self) -> None:
        await self.outbox.put(None)
        await self.channel.close()


@pytest.fixture
def server(database_url: str) -> Iterator[LiveServer]:
    with LiveServer(database_url) as live:
        yield live


def grpc_port(server: LiveServer) -> int:
    port: int = server.app.state.distribution.port
    return port


def node_status(client: httpx.Client, node: str) -> dict[str, Any]:
    status = client.get("/v1/status").json()
    return next(n for n in status["nodes"] if n["name"] == node)


def test_snapshot_then_delta_acked_and_visible_over_rest(server: LiveServer) -> None:
    client = server.client()
    tokens = seed(client)

    async def scenario() -> None:
        agent = RawAgent(grpc_port(server), tokens["n1"])
        await agent.hello("n1")
        first = await agent.receive()
        assert first.WhichOneof("message") == "snapshot"
        config = snapshot_from_proto(first.snapshot)
        assert "frontend/TCP/10.96.0.10/80" not in config.objects  # no endpoints yet
        assert "snat" in config.objects
        revision = first.snapshot.revision
        await agent.send(ack=dpb.Ack(revision=revision))
        await asyncio.to_thread(
            lambda: client.put(
                "/v1/namespaces/default/services/web/endpoints",
                json={"endpoints": [{"addresses": ["10.1.2.5"], "nodeName": "n2"}]},
            ).raise_for_status()
        )
        second = await agent.receive()
        assert second.WhichOneof("message") == "delta"
        delta = delta_from_proto(second.delta)
        assert second.delta.from_revision == revision
        frontend = delta.upserts["frontend/TCP/10.96.0.10/80"]
        assert [(b.address, b.port) for b in frontend.backends] == [("10.1.2.5", 8080)]  # type: ignore[union-attr]
        await agent.send(ack=dpb.Ack(revision=second.delta.to_revision))
        current = await asyncio.to_thread(lambda: client.get("/readyz").json()["revision"])
        await asyncio.to_thread(
            wait_for, lambda: node_status(client, "n1")["appliedRevision"] == current
        )
        status = await asyncio.to_thread(lambda: node_status(client, "n1"))
        assert status["connected"] is True and status["lag"] == 0 and status["lastError"] is None
        await agent.close()

    asyncio.run(scenario())
    wait_for(lambda: node_status(client, "n1")["connected"] is False)


def test_nack_is_visible_and_cleared_by_the_next_ack(server: LiveServer) -> None:
    client = server.client()
    tokens = seed(client)

    async def scenario() -> None:
        agent = RawAgent(grpc_port(server), tokens["n1"])
        await agent.hello("n1")
        snapshot = (await agent.receive()).snapshot
        await agent.send(
            nack=dpb.Nack(
                revision=snapshot.revision,
                errors=[dpb.ObjectError(key="snat", message="VPP said -7")],
            )
        )
        status = await asyncio.to_thread(
            wait_for, lambda: (s := node_status(client, "n1"))["lastError"] and s
        )
        assert status["lastError"] == "snat: VPP said -7"
        assert status["errors"] == [{"key": "snat", "message": "VPP said -7"}]
        node = await asyncio.to_thread(lambda: client.get("/v1/nodes/n1").json())
        assert node["status"]["lastError"] == "snat: VPP said -7"
        await asyncio.to_thread(
            lambda: client.patch(
                "/v1/nodes/n2",
                json={"metadata": {"labels": {"x": "y"}}},
                headers={"Content-Type": "application/merge-patch+json"},
            ).raise_for_status()
        )
        delta = (await agent.receive()).delta
        await agent.send(ack=dpb.Ack(revision=delta.to_revision))
        await asyncio.to_thread(wait_for, lambda: node_status(client, "n1")["lastError"] is None)
        await agent.close()

    asyncio.run(scenario())


def test_reconnect_with_a_known_revision_gets_a_delta(server: LiveServer) -> None:
    client = server.client()
    tokens = seed(client)

    async def scenario() -> None:
        agent = RawAgent(grpc_port(server), tokens["n1"])
        await agent.hello("n1")
        snapshot = (await agent.receive()).snapshot
        await agent.close()
        await asyncio.to_thread(
            lambda: client.put(
                "/v1/namespaces/default/services/web/endpoints",
                json={"endpoints": [{"addresses": ["10.1.1.7"], "nodeName": "n1"}]},
            ).raise_for_status()
        )
        await asyncio.sleep(0.3)
        again = RawAgent(grpc_port(server), tokens["n1"])
        await again.hello("n1", last=snapshot.revision)
        message = await again.receive()
        assert message.WhichOneof("message") == "delta"
        assert message.delta.from_revision == snapshot.revision
        assert "frontend/TCP/10.96.0.10/80" in delta_from_proto(message.delta).upserts
        await again.close()

    asyncio.run(scenario())


def test_wrong_token_and_wrong_node_are_refused(server: LiveServer) -> None:
    client = server.client()
    tokens = seed(client)

    async def scenario() -> None:
        bad = RawAgent(grpc_port(server), "sy_not-a-token")
        await bad.hello("n1")
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await bad.receive()
        assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
        await bad.close()

        impostor = RawAgent(grpc_port(server), tokens["n1"])
        await impostor.hello("n2")
        with pytest.raises(grpc.aio.AioRpcError) as denied:
            await impostor.receive()
        assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert "n1" in (denied.value.details() or "")
        await impostor.close()

        # An admin REST token is not an agent token either.
        admin = RawAgent(grpc_port(server), "test-admin-token")
        await admin.hello("n1")
        with pytest.raises(grpc.aio.AioRpcError) as not_agent:
            await admin.receive()
        assert not_agent.value.code() == grpc.StatusCode.UNAUTHENTICATED
        await admin.close()

    asyncio.run(scenario())


def test_health_service_reports_serving(server: LiveServer) -> None:
    async def scenario() -> None:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{grpc_port(server)}") as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            reply = await stub.Check(
                health_pb2.HealthCheckRequest(service="switchyard.v1.Distribution")
            )
            assert reply.status == health_pb2.HealthCheckResponse.SERVING

    asyncio.run(scenario())


def test_node_config_over_rest(server: LiveServer) -> None:
    client = server.client()
    seed(client)
    config = wait_for(
        lambda: (r := client.get("/v1/nodes/n1/config")).status_code == 200 and r.json()
    )
    assert config["node"] == "n1"
    assert config["objects"]["snat"]["kind"] == "snat"
    assert client.get("/v1/nodes/ghost/config").status_code == 404


def test_node_tokens_need_an_existing_node_and_grant_no_rest(server: LiveServer) -> None:
    client = server.client()
    tokens = seed(client)
    assert client.post("/v1/tokens", json={"role": "node", "node": "ghost"}).status_code == 422
    assert client.post("/v1/tokens", json={"role": "node"}).status_code == 422
    assert client.post("/v1/tokens", json={"role": "reader", "node": "n1"}).status_code == 422
    agent_rest = server.client(tokens["n1"]).get("/v1/nodes")
    assert agent_rest.status_code == 403


def test_reports_are_pruned_to_the_newest_per_node(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from switchyard_api.distribution import status as status_module
    from switchyard_api.distribution.status import NodeStatusRecorder
    from switchyard_api.store.db import create_store_engine
    from switchyard_api.store.models import NodeReport
    from switchyard_api.store.store import IntentStore

    store = IntentStore(create_store_engine(database_url))
    recorder = NodeStatusRecorder(store, "test")
    kept = status_module.REPORTS_KEPT_PER_NODE
    for revision in range(kept + 30):
        for node in ("n1", "n2"):
            recorder.report(node, revision, [], "")
    monkeypatch.setattr(status_module, "PRUNE_EVERY_FLUSHES", 1)
    recorder.flush()
    with store.read() as session:
        for node in ("n1", "n2"):
            revisions = sorted(
                r.revision for r in session.query(NodeReport).filter(NodeReport.node == node)
            )
            assert revisions == list(range(30, kept + 30))
    store.engine.dispose()


def test_an_agent_ahead_of_the_replica_gets_a_delta_not_an_older_snapshot(
    server: LiveServer,
) -> None:
    """Failover: the agent applied revision N+1 on a replica that was ahead; this one has
    compiled only N. It must answer once it has caught up (a delta from N+1), never with a
    snapshot of N, which would take the node back a revision."""
    client = server.client()
    tokens = seed(client)
    current: int = client.get("/readyz").json()["revision"]

    async def scenario() -> None:
        agent = RawAgent(grpc_port(server), tokens["n1"])
        await agent.hello("n1", last=current + 1)  # what the other replica had sent it

        def write(address: str) -> None:
            client.put(
                "/v1/namespaces/default/services/web/endpoints",
                json={"endpoints": [{"addresses": [address], "nodeName": "n2"}]},
            ).raise_for_status()

        def write_both() -> None:
            time.sleep(0.3)  # revision N+1 lands after the Hello: the agent is current then
            write("10.1.2.5")
            time.sleep(0.3)
            write("10.1.2.6")  # N+2: the first thing the agent must be sent

        writer = asyncio.create_task(asyncio.to_thread(write_both))
        first = await agent.receive()
        await writer
        assert first.WhichOneof("message") == "delta", first.WhichOneof("message")
        assert first.delta.from_revision == current + 1
        assert first.delta.to_revision >= current + 2
        await agent.close()

    asyncio.run(scenario())
