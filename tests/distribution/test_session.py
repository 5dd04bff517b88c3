"""A slow agent never holds the others back: its queue is bounded and overflows into one fresh
snapshot."""

from __future__ import annotations

from switchyard_api.distribution.intent_state import merge_deltas
from switchyard_api.distribution.session import AgentSession
from switchyard_contract.nodeconfig import NodeDelta


def empty(node: str = "n1") -> NodeDelta:
    return NodeDelta(node, {}, frozenset())


def test_offers_queue_until_the_limit_then_coalesce_to_a_snapshot() -> None:
    session = AgentSession("n1", queue_limit=3)
    session.needs_snapshot = False  # it has been sent its snapshot
    for revision in (1, 2, 3):
        session.offer(empty(), revision)
    assert [o.to_revision for o in session.owed] == [1, 2, 3]
    assert not session.needs_snapshot
    session.offer(empty(), 4)  # one too many: drop the backlog, owe a snapshot instead
    assert session.needs_snapshot and session.owed == []
    session.offer(empty(), 5)  # while a snapshot is owed nothing more queues
    assert session.owed == [] and session.wake.is_set()


def test_merged_deltas_keep_the_latest_value_and_removals() -> None:
    from switchyard_contract.nodeconfig import GreTunnel, SnatConfig

    tunnel = GreTunnel("192.0.2.1", "192.0.2.9")
    first = NodeDelta("n1", {"snat": SnatConfig("192.0.2.1", None, ())}, frozenset({tunnel.key}))
    second = NodeDelta("n1", {"snat": SnatConfig("192.0.2.2", None, ())}, frozenset({"snat2"}))
    third = NodeDelta("n1", {tunnel.key: tunnel}, frozenset({"snat"}))
    merged = merge_deltas("n1", [first, second, third])
    assert merged.upserts == {tunnel.key: tunnel}
    assert merged.removals == frozenset({"snat", "snat2"})
