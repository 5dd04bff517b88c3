"""Deleting a node's token closes that node's streams on every replica within a second."""

from __future__ import annotations

import asyncio
import time

import grpc
import httpx
import pytest

from switchyard.v1 import distribution_pb2 as dpb
from switchyard_api.auth import TokenStore
from switchyard_api.distribution.revocation import RevocationWatch
from switchyard_api.distribution.session import AgentSession
from switchyard_api.store.db import create_store_engine
from switchyard_api.store.feed import ChangeFeed
from switchyard_api.store.store import IntentStore

from ..api.support import LiveServer
from .test_server import RawAgent, grpc_port, seed


def token_ids(client: httpx.Client) -> dict[str, str]:
    return {t["node"]: t["id"] for t in client.get("/v1/tokens").json()["items"] if t["node"]}


async def connected(server: LiveServer, token: str, node: str) -> RawAgent:
    agent = RawAgent(grpc_port(server), token)
    await agent.hello(node)
    assert (await agent.receive()).WhichOneof("message") == "snapshot"
    return agent


async def revoked_within(agent: RawAgent, seconds: float) -> dpb.Goodbye:
    """The Goodbye, past any configuration still on its way."""
    deadline = time.monotonic() + seconds
    while True:
        message = await asyncio.wait_for(agent.call.read(), deadline - time.monotonic())
        assert message is not grpc.aio.EOF
        if message.WhichOneof("message") == "goodbye":
            break
    assert message.goodbye.reason == dpb.Goodbye.REASON_REFUSED
    assert "revoked" in message.goodbye.message
    return message.goodbye


def test_revocation_closes_the_stream_on_every_replica(fresh_postgres_url: str) -> None:
    # Both replicas poll for revoked tokens only every 30 s: within a second means NOTIFY
    # (replica B) and the deleting request itself (replica A).
    with (
        LiveServer(fresh_postgres_url, catch_up_interval=30) as replica_a,
        LiveServer(fresh_postgres_url, catch_up_interval=30) as replica_b,
    ):
        client = replica_a.client()
        tokens = seed(client)
        ids = token_ids(client)

        async def scenario() -> None:
            on_a = await connected(replica_a, tokens["n1"], "n1")
            on_b = await connected(replica_b, tokens["n1"], "n1")
            other = await connected(replica_b, tokens["n2"], "n2")
            await asyncio.sleep(0.5)  # both replicas' LISTEN connections are up
            started = time.monotonic()
            response = await asyncio.to_thread(client.delete, f"/v1/tokens/{ids['n1']}")
            assert response.status_code == 204
            await asyncio.gather(revoked_within(on_a, 1.0), revoked_within(on_b, 1.0))
            assert time.monotonic() - started < 1.0
            for agent in (on_a, on_b):
                assert await asyncio.wait_for(agent.call.read(), 5) is grpc.aio.EOF
            # The other node's stream carries on: it gets the next change.
            await asyncio.to_thread(
                lambda: client.put(
                    "/v1/namespaces/default/services/web/endpoints",
                    json={"endpoints": [{"addresses": ["10.1.2.5"], "nodeName": "n2"}]},
                ).raise_for_status()
            )
            assert (await other.receive()).WhichOneof("message") == "delta"
            # And the revoked token no longer opens a stream anywhere.
            for replica in (replica_a, replica_b):
                again = RawAgent(grpc_port(replica), tokens["n1"])
                await again.hello("n1")
                with pytest.raises(grpc.aio.AioRpcError) as refused:
                    await again.receive()
                assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
                await again.close()
            for agent in (on_a, on_b, other):
                await agent.close()

        asyncio.run(scenario())


def test_revocation_without_notify_is_found_by_the_periodic_check(database_url: str) -> None:
    # SQLite has no NOTIFY, and replica B here does not listen: the check every
    # catch_up_interval still closes the stream.
    with (
        LiveServer(database_url) as replica_a,
        LiveServer(database_url, notify_listen=False, catch_up_interval=0.5) as replica_b,
    ):
        client = replica_a.client()
        tokens = seed(client)
        ids = token_ids(client)

        async def scenario() -> None:
            on_b = await connected(replica_b, tokens["n1"], "n1")
            response = await asyncio.to_thread(client.delete, f"/v1/tokens/{ids['n1']}")
            assert response.status_code == 204
            await revoked_within(on_b, 2.0)
            await on_b.close()

        asyncio.run(scenario())


class ConnectingDuringTheCheck(TokenStore):
    """A real token store; while its query runs, another agent's stream registers (the
    race a busy replica meets when agents connect during the periodic check)."""

    def __init__(self, store: IntentStore, arriving: AgentSession) -> None:
        super().__init__(store)
        self.arriving = arriving
        self.sessions: dict[str, AgentSession] = {}

    def existing(self, token_ids: set[str]) -> set[str]:
        live = super().existing(token_ids)
        self.sessions[self.arriving.node] = self.arriving
        return live


def test_a_stream_that_connects_during_the_check_is_not_taken_for_revoked(
    database_url: str,
) -> None:
    store = IntentStore(create_store_engine(database_url))
    first, _ = TokenStore(store).create("node", "", "n1")
    second, _ = TokenStore(store).create("node", "", "n2")
    tokens = ConnectingDuringTheCheck(store, AgentSession("n2", second.id))
    tokens.sessions["n1"] = AgentSession("n1", first.id)
    watch = RevocationWatch(tokens.sessions, tokens, ChangeFeed())

    assert asyncio.run(watch.check()) == []
    assert tokens.sessions["n2"].goodbye is None  # its token exists: it stays connected
    store.engine.dispose()
