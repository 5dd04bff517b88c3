"""Object status never counts a node as applied for an object it did not apply: a NACKed key
compiled from the object (or, when the compiler does not record the owner, one that may come
from it), a NACK of the whole revision, or a dataplane down that renders the object's kind."""

from __future__ import annotations

from typing import Any

from switchyard_api.distribution.object_status import ObjectStatusView, attribute
from switchyard_api.store.models import StoredObject


def row(kind: str, name: str, version: int, status: dict[str, Any] | None = None) -> StoredObject:
    return StoredObject(
        kind=kind,
        namespace="" if kind in ("Node", "BgpPeer") else "default",
        name=name,
        uid=name,
        resource_version=version,
        created_at="",
        labels={},
        annotations={},
        spec={},
        status=status,
    )


def node(name: str, applied: int, **status: Any) -> StoredObject:
    reported = {"connected": True, "appliedRevision": applied, "acked": True, **status}
    return row("Node", name, 1, reported)


def view(*nodes: StoredObject) -> ObjectStatusView:
    rows = list(nodes)
    failures, errors, unattributed = attribute(None, rows)
    return ObjectStatusView(rows, failures, errors, unattributed)


POLICY = row("NetworkPolicy", "deny", 5)
PEER = row("BgpPeer", "router", 5)
SERVICE = row("Service", "web", 5)


def test_acked_nodes_at_or_past_the_version_count_lagging_ones_do_not() -> None:
    status = view(node("n1", 5), node("n2", 9), node("n3", 4)).status_of(POLICY)
    assert status["appliedNodes"] == 2 and status["totalNodes"] == 3
    assert status["notAppliedNodes"] == []


def test_a_dataplane_down_holds_back_the_kinds_it_renders() -> None:
    down = node("n1", 7, dataplanes={"vpp": "disconnected"}, dataplanesDown=["vpp"])
    nodes = view(down, node("n2", 7))
    for obj in (POLICY, SERVICE):
        status = nodes.status_of(obj)
        assert status["appliedNodes"] == 1
        assert status["notAppliedNodes"] == [{"node": "n1", "reason": "dataplane vpp disconnected"}]
    assert nodes.status_of(PEER)["appliedNodes"] == 2  # GoBGP renders BGP peers, and it is up
    bgp_down = view(node("n1", 7, dataplanesDown=["gobgp"]))
    assert bgp_down.status_of(PEER)["appliedNodes"] == 0
    assert bgp_down.status_of(POLICY)["appliedNodes"] == 1


def test_a_nacked_key_without_a_recorded_owner_holds_back_the_kinds_it_may_come_from() -> None:
    errors = [{"key": "acl/0123abcd", "message": "create failed: no memory"}]
    nacked = node("n1", 7, acked=False, errors=errors, lastError="acl/0123abcd: ...")
    nodes = view(nacked)
    status = nodes.status_of(POLICY)
    assert status["appliedNodes"] == 0
    assert status["notAppliedNodes"] == [
        {"node": "n1", "reason": "NACKed acl/0123abcd: create failed: no memory"}
    ]
    assert nodes.status_of(PEER)["appliedNodes"] == 1  # an ACL never comes from a BGP peer


def test_a_nack_of_the_whole_revision_holds_back_everything() -> None:
    whole = node("n1", 7, acked=False, lastError="snapshot for node n9, this is n1")
    for obj in (POLICY, PEER, SERVICE):
        [held] = view(whole).status_of(obj)["notAppliedNodes"]
        assert held["node"] == "n1" and "n9" in held["reason"]
