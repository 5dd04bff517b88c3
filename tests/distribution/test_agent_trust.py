"""The controller does not take an agent's word for more than it was sent: an Ack/Nack of a
revision never sent on the stream, a Nack beyond the limits, or an oversized message ends
the stream and records nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import grpc
import httpx
import pytest

from switchyard.v1 import distribution_pb2 as dpb
from switchyard_contract.limits import (
    MAX_AGENT_MESSAGE_BYTES,
    MAX_ERROR_KEY_CHARS,
    MAX_NACK_ERRORS,
)
from tests.waiting import wait_for

from ..api.support import LiveServer
from .test_server import RawAgent, grpc_port, node_status, seed


@pytest.fixture
def server(database_url: str) -> Iterator[LiveServer]:
    with LiveServer(database_url) as live:
        yield live


async def expect_protocol_error(agent: RawAgent, *words: str) -> dpb.Goodbye:
    message = await agent.receive()
    assert message.WhichOneof("message") == "goodbye", message
    goodbye = message.goodbye
    assert goodbye.reason == dpb.Goodbye.REASON_PROTOCOL_ERROR
    for word in words:
        assert word in goodbye.message
    assert await asyncio.wait_for(agent.call.read(), 5) is grpc.aio.EOF  # the stream is closed
    return goodbye


async def connected_with_snapshot(server: LiveServer, token: str) -> tuple[RawAgent, int]:
    agent = RawAgent(grpc_port(server), token)
    await agent.hello("n1")
    first = await agent.receive()
    assert first.WhichOneof("message") == "snapshot"
    return agent, first.snapshot.revision


def settled(client: httpx.Client) -> dict[str, object]:
    """n1's status once the stream is gone (the recorder has flushed its last word)."""
    return wait_for(lambda: (s := node_status(client, "n1"))["connected"] is False and s)


def test_ack_of_a_revision_never_sent_closes_the_stream(server: LiveServer) -> None:
    client = server.client()
    tokens = seed(client)

    async def scenario() -> None:
        agent, _ = await connected_with_snapshot(server, tokens["n1"])
        await agent.send(ack=dpb.Ack(revision=10**15))
        await expect_protocol_error(agent, "Ack", str(10**15), "never sent")
        await agent.close()

    asyncio.run(scenario())
    status = settled(client)
    assert status["appliedRevision"] != 10**15
    assert status["lag"] != 0 or status["appliedRevision"] is None


def test_a_claimed_revision_in_hello_is_not_recorded_as_applied(server: LiveServer) -> None:
    client = server.client()
    tokens = seed(client)

    async def scenario() -> None:
        agent = RawAgent(grpc_port(server), tokens["n1"])
        await agent.hello("n1", last=10**15)
        first = await agent.receive()
        assert first.WhichOneof("message") == "snapshot"  # a revision this replica never had
        status = await asyncio.to_thread(
            wait_for, lambda: (s := node_status(client, "n1"))["connected"] and s
        )
        assert status["appliedRevision"] != 10**15
        await agent.send(ack=dpb.Ack(revision=first.snapshot.revision))
        await asyncio.to_thread(
            wait_for,
            lambda: node_status(client, "n1")["appliedRevision"] == first.snapshot.revision,
        )
        await agent.close()

    asyncio.run(scenario())


def test_nack_of_a_revision_never_sent_closes_the_stream(server: LiveServer) -> None:
    client = server.client()
    tokens = seed(client)

    async def scenario() -> None:
        agent, revision = await connected_with_snapshot(server, tokens["n1"])
        nack = dpb.Nack(revision=revision + 1, errors=[dpb.ObjectError(key="snat", message="x")])
        await agent.send(nack=nack)
        await expect_protocol_error(agent, "Nack", str(revision + 1))
        await agent.close()

    asyncio.run(scenario())
    assert settled(client)["errors"] == []


@pytest.mark.parametrize(
    ("errors", "words"),
    [
        ([("snat", "x")] * (MAX_NACK_ERRORS + 1), (str(MAX_NACK_ERRORS + 1), "object errors")),
        ([("k" * (MAX_ERROR_KEY_CHARS + 1), "x")], ("key", "longer")),
        ([("snat", "m" * 5000)], ("message", "longer")),
    ],
    ids=["too-many-errors", "long-key", "long-message"],
)
def test_nack_beyond_the_limits_closes_the_stream_and_stores_nothing(
    server: LiveServer, errors: list[tuple[str, str]], words: tuple[str, ...]
) -> None:
    client = server.client()
    tokens = seed(client)

    async def scenario() -> None:
        agent, revision = await connected_with_snapshot(server, tokens["n1"])
        nack = dpb.Nack(
            revision=revision, errors=[dpb.ObjectError(key=k, message=m) for k, m in errors]
        )
        await agent.send(nack=nack)
        await expect_protocol_error(agent, *words)
        await agent.close()

    asyncio.run(scenario())
    status = settled(client)
    assert status["errors"] == [] and status["lastError"] is None


def test_an_agent_message_over_the_receive_limit_is_refused(server: LiveServer) -> None:
    client = server.client()
    tokens = seed(client)

    async def scenario() -> None:
        agent, revision = await connected_with_snapshot(server, tokens["n1"])
        huge = [dpb.ObjectError(key=f"k{i}", message="m" * 200_000) for i in range(50)]
        assert dpb.Nack(revision=revision, errors=huge).ByteSize() > MAX_AGENT_MESSAGE_BYTES
        await agent.send(nack=dpb.Nack(revision=revision, errors=huge))
        with pytest.raises(grpc.aio.AioRpcError) as ended:
            while True:
                await agent.receive()
        assert ended.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        await agent.close()

    asyncio.run(scenario())
    status = settled(client)
    assert status["errors"] == []


def test_answers_in_order_and_a_late_ack_are_accepted(server: LiveServer) -> None:
    client = server.client()
    tokens = seed(client)

    async def scenario() -> None:
        agent, revision = await connected_with_snapshot(server, tokens["n1"])
        await asyncio.to_thread(
            lambda: client.put(
                "/v1/namespaces/default/services/web/endpoints",
                json={"endpoints": [{"addresses": ["10.1.1.5"], "nodeName": "n1"}]},
            ).raise_for_status()
        )
        delta = (await agent.receive()).delta
        # Answers for both revisions, in order; then a late Ack of the Nacked one.
        await agent.send(ack=dpb.Ack(revision=revision))
        nack = dpb.Nack(
            revision=delta.to_revision, errors=[dpb.ObjectError(key="snat", message="gone")]
        )
        await agent.send(nack=nack)
        await asyncio.to_thread(
            wait_for, lambda: node_status(client, "n1")["lastError"] == "snat: gone"
        )
        await agent.send(ack=dpb.Ack(revision=delta.to_revision))
        status = await asyncio.to_thread(
            wait_for, lambda: (s := node_status(client, "n1"))["lastError"] is None and s
        )
        assert status["connected"] and status["appliedRevision"] == delta.to_revision
        # An answer for a revision already passed is not accepted any more.
        await agent.send(ack=dpb.Ack(revision=revision))
        await expect_protocol_error(agent, str(revision))
        await agent.close()

    asyncio.run(scenario())
