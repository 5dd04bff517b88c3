"""Issue 15: a Status's pending objects (what each waits for) reach node status, bounded; one
beyond the limits ends the stream and records nothing; an older agent's keys-only Status
still shows which objects are pending."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from switchyard.v1 import distribution_pb2 as dpb
from switchyard_agent.reconciler import ApplyResult, Waiting
from switchyard_agent.sink import fill_pending
from switchyard_api.distribution.agent_messages import UNEXPLAINED, status_problem
from switchyard_contract.limits import (
    MAX_ERROR_KEY_CHARS,
    MAX_PENDING_REASON_CHARS,
    MAX_PENDING_WAITING_FOR,
    MAX_STATUS_PENDING,
)
from tests.waiting import wait_for

from ..api.support import LiveServer
from .test_agent_trust import connected_with_snapshot, expect_protocol_error, settled
from .test_server import node_status, seed

TAP = "vpp-interface/tap3"


@pytest.fixture
def server(database_url: str) -> Iterator[LiveServer]:
    with LiveServer(database_url) as live:
        yield live


def pending(key: str, *deps: str, reason: str = "waiting") -> dpb.PendingObject:
    return dpb.PendingObject(key=key, waiting_for=deps, reason=reason)


def test_the_pending_objects_reach_node_status_until_none_is_left(server: LiveServer) -> None:
    client = server.client()
    tokens = seed(client)
    listed = [
        pending("acl-binding/tap3", "interface/tap3", reason="waiting for interface/tap3"),
        pending("interface/tap3", TAP, reason=f"waiting for {TAP} (not there yet)"),
    ]

    async def scenario() -> None:
        agent, revision = await connected_with_snapshot(server, tokens["n1"])
        await agent.send(ack=dpb.Ack(revision=revision))
        # 250 pending in all: the agent lists the first, the count is exact.
        status = dpb.Status(applied_revision=revision, pending=listed, pending_count=250)
        await agent.send(status=status)
        shown = await asyncio.to_thread(
            wait_for, lambda: (s := node_status(client, "n1"))["pendingObjects"] == 250 and s
        )
        assert shown["pending"] == [
            {
                "key": "acl-binding/tap3",
                "waitingFor": ["interface/tap3"],
                "reason": "waiting for interface/tap3",
            },
            {
                "key": "interface/tap3",
                "waitingFor": [TAP],
                "reason": f"waiting for {TAP} (not there yet)",
            },
        ]
        node = client.get("/v1/nodes/n1").json()["status"]  # the Node's own status too
        assert node["pending"] == shown["pending"] and node["pendingObjects"] == 250
        await agent.send(status=dpb.Status(applied_revision=revision, pending_count=0))
        await asyncio.to_thread(
            wait_for,
            lambda: (s := node_status(client, "n1"))["pendingObjects"] == 0 and not s["pending"],
        )
        await agent.close()

    asyncio.run(scenario())


def test_a_password_quoted_in_a_reason_is_redacted(server: LiveServer) -> None:
    client = server.client()
    tokens = seed(client)
    secret = "Pa55-w0rd-nobody-may-read"
    peer = {"spec": {"peerIP": "198.51.100.1", "asNumber": 65000, "password": secret}}
    client.put("/v1/bgp-peers/router", json=peer).raise_for_status()
    quoted = pending("bgp-path/x", "bgp-peer/198.51.100.1", reason=f"peer failed: auth {secret}")

    async def scenario() -> None:
        agent, _ = await connected_with_snapshot(server, tokens["n1"])
        await agent.send(status=dpb.Status(pending=[quoted], pending_count=1))
        await asyncio.to_thread(wait_for, lambda: node_status(client, "n1")["pendingObjects"] == 1)
        await agent.close()

    asyncio.run(scenario())
    for body in (client.get("/v1/status").text, client.get("/v1/nodes/n1").text):
        assert secret not in body and "peer failed: auth <redacted>" in body


def test_an_older_agents_pending_keys_are_listed_without_a_reason(server: LiveServer) -> None:
    client = server.client()
    tokens = seed(client)

    async def scenario() -> None:
        agent, revision = await connected_with_snapshot(server, tokens["n1"])
        keys = [f"route/10.0.{i}.0/24" for i in range(150)]  # no pending, no pending_count
        await agent.send(status=dpb.Status(applied_revision=revision, pending_keys=keys))
        shown = await asyncio.to_thread(
            wait_for, lambda: (s := node_status(client, "n1"))["pendingObjects"] == 150 and s
        )
        assert [p["key"] for p in shown["pending"]] == keys[:100]  # the list stays bounded
        assert all(
            p == {"key": p["key"], "waitingFor": [], "reason": UNEXPLAINED}
            for p in shown["pending"]
        )
        await agent.close()

    asyncio.run(scenario())


LONG_KEY = "k" * (MAX_ERROR_KEY_CHARS + 1)


@pytest.mark.parametrize(
    ("status", "words"),
    [
        (
            dpb.Status(pending=[pending(f"k{i}") for i in range(MAX_STATUS_PENDING + 1)]),
            (f"{MAX_STATUS_PENDING + 1} pending objects", f"at most {MAX_STATUS_PENDING}"),
        ),
        (dpb.Status(pending=[pending(LONG_KEY)]), ("Status.pending[0].key", "longer")),
        (dpb.Status(pending=[pending("")]), ("Status.pending[0].key is empty",)),
        (
            dpb.Status(pending=[pending("a"), pending("b", *(f"d{i}" for i in range(9)))]),
            ("Status.pending[1] (b)", "9 dependencies", f"at most {MAX_PENDING_WAITING_FOR}"),
        ),
        (dpb.Status(pending=[pending("a", LONG_KEY)]), ("waiting_for", "characters")),
        (
            dpb.Status(pending=[pending("a", reason="r" * (MAX_PENDING_REASON_CHARS + 1))]),
            ("Status.pending[0].reason", "longer"),
        ),
        (
            dpb.Status(pending=[pending("a"), pending("b")], pending_count=1),
            ("pending_count is 1", "2 are listed"),
        ),
    ],
    ids=["too-many", "long-key", "empty-key", "too-many-deps", "long-dep", "long-reason", "count"],
)
def test_pending_beyond_the_limits_closes_the_stream_and_stores_nothing(
    server: LiveServer, status: dpb.Status, words: tuple[str, ...]
) -> None:
    client = server.client()
    tokens = seed(client)

    async def scenario() -> None:
        agent, _ = await connected_with_snapshot(server, tokens["n1"])
        await agent.send(status=status)
        await expect_protocol_error(agent, *words)
        await agent.close()

    asyncio.run(scenario())
    shown = settled(client)
    assert shown["pending"] == [] and shown["pendingObjects"] == 0


def test_what_the_agent_sends_at_its_largest_the_controller_accepts() -> None:
    many = tuple(
        Waiting("k" * 2000 + str(i), tuple("d" * 2000 for _ in range(50)), "\U0001f600" * 9000)
        for i in range(5000)
    )
    status = dpb.Status()
    fill_pending(status, ApplyResult(1, pending=tuple(w.key for w in many), waiting=many))
    assert status_problem(status) is None
