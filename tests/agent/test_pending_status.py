"""Issue 15: the agent says which objects are pending and on what. The reconciler explains each
pending key; the Status the agent builds lists the first of them within the controller's limits
and counts them all."""

from __future__ import annotations

from switchyard.v1 import distribution_pb2 as dpb
from switchyard_agent.reconciler import ApplyResult, Waiting
from switchyard_agent.sink import fill_pending
from switchyard_contract.limits import (
    MAX_AGENT_MESSAGE_BYTES,
    MAX_ERROR_KEY_CHARS,
    MAX_PENDING_REASON_CHARS,
    MAX_PENDING_WAITING_FOR,
    MAX_STATUS_KEYS,
    MAX_STATUS_PENDING,
)
from switchyard_contract.nodeconfig import Acl, AclBinding, AclRule

from . import config, rig
from .test_convergence import ACL, BINDING, MEMIF, POD_IF


def waiting(result: ApplyResult) -> dict[str, tuple[tuple[str, ...], str]]:
    assert [w.key for w in result.waiting] == list(result.pending)  # one each, same order
    return {w.key: (w.waiting_for, w.reason) for w in result.waiting}


def test_each_pending_object_says_what_it_waits_for_and_why() -> None:
    r = rig()
    result = r.reconciler.apply_snapshot(1, config(ACL, POD_IF, BINDING))
    assert waiting(result) == {
        BINDING.key: ((POD_IF.key,), f"waiting for {POD_IF.key} (itself pending)"),
        POD_IF.key: ((MEMIF,), f"waiting for {MEMIF} (the dataplane does not have it yet)"),
    }

    # An ACL the configuration lacks, and one that VPP refuses: each named with its cause.
    refused = Acl("b" * 8, (AclRule(2, "10.0.0.0/8", "0.0.0.0/0"),))
    r = rig(plugged=["memif1/0"])
    r.driver.vpp.fail(key=refused.key, message="table full")
    binding = AclBinding("memif1/0", ("z" * 8, refused.name), ())
    result = r.reconciler.apply_snapshot(1, config(refused, POD_IF, binding))
    assert waiting(result) == {
        binding.key: (
            ("acl/zzzzzzzz", refused.key),
            "waiting for acl/zzzzzzzz (not in the node's configuration), "
            f"{refused.key} (failed: create failed: table full (create {refused.key}))",
        )
    }


def test_a_disconnected_dataplane_leaves_objects_waiting_for_no_object() -> None:
    r = rig()
    r.driver.vpp.disconnect()
    result = r.reconciler.apply_snapshot(1, config(ACL))
    assert waiting(result) == {ACL.key: ((), "vpp disconnected: waiting for resync")}


def test_the_status_counts_every_pending_object_and_lists_the_first_within_the_limits() -> None:
    wide = "\U0001f600"  # four bytes in UTF-8
    many = tuple(
        Waiting(
            f"route/10.{i // 256}.{i % 256}.0/24" + "x" * 600,
            tuple(f"vpp-interface/tap{i}-{d}" + "y" * 600 for d in range(20)),
            wide * 1000,
        )
        for i in range(2500)
    )
    result = ApplyResult(1, pending=tuple(w.key for w in many), waiting=many)
    status = dpb.Status()
    fill_pending(status, result)

    assert status.pending_count == 2500
    assert list(status.pending_keys) == [w.key for w in many[:MAX_STATUS_KEYS]]
    assert len(status.pending) == MAX_STATUS_PENDING
    for sent, whole in zip(status.pending, many, strict=False):
        assert len(sent.key) == MAX_ERROR_KEY_CHARS and whole.key.startswith(sent.key[:-1])
        assert len(sent.waiting_for) == MAX_PENDING_WAITING_FOR
        assert all(len(dep) <= MAX_ERROR_KEY_CHARS for dep in sent.waiting_for)
        assert len(sent.reason) == MAX_PENDING_REASON_CHARS and sent.reason.endswith("…")
    assert dpb.AgentMessage(status=status).ByteSize() < MAX_AGENT_MESSAGE_BYTES


def test_nothing_pending_is_said_as_a_count_of_zero() -> None:
    status = dpb.Status()
    fill_pending(status, ApplyResult(1))
    assert status.HasField("pending_count") and status.pending_count == 0
    assert list(status.pending) == [] and list(status.pending_keys) == []
