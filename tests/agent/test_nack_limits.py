"""The agent's Nack stays within the controller's limits however many objects failed."""

from __future__ import annotations

from switchyard.v1 import distribution_pb2 as dpb
from switchyard_agent.session import nack_for
from switchyard_agent.sink import ApplyOutcome
from switchyard_contract.limits import (
    MAX_AGENT_MESSAGE_BYTES,
    MAX_ERROR_KEY_CHARS,
    MAX_ERROR_MESSAGE_CHARS,
    MAX_NACK_ERRORS,
)


def test_a_nack_lists_the_first_errors_and_counts_the_rest() -> None:
    errors = tuple(
        (f"frontend/TCP/10.96.{i // 256}.{i % 256}/80", "VPP said -7") for i in range(250)
    )
    nack = nack_for(ApplyOutcome(9, errors=errors, message="resync pending"))
    assert nack.revision == 9
    assert [(e.key, e.message) for e in nack.errors] == list(errors[:MAX_NACK_ERRORS])
    assert nack.message == "resync pending; 150 more object error(s) not listed"


def test_the_largest_nack_fits_the_receive_limit() -> None:
    wide = "\U0001f600"  # four bytes in UTF-8
    errors = tuple((f"{i}{wide * 10_000}", wide * 10_000) for i in range(1_000))
    nack = nack_for(ApplyOutcome(1, errors=errors, message=wide * 10_000))
    assert len(nack.errors) == MAX_NACK_ERRORS
    assert all(len(e.key) <= MAX_ERROR_KEY_CHARS for e in nack.errors)
    assert all(len(e.message) <= MAX_ERROR_MESSAGE_CHARS for e in nack.errors)
    assert len(nack.message) <= MAX_ERROR_MESSAGE_CHARS
    assert dpb.AgentMessage(nack=nack).ByteSize() < MAX_AGENT_MESSAGE_BYTES / 2


def test_the_count_of_unlisted_errors_is_exact_when_the_worker_already_capped_them() -> None:
    """The worker keeps the first MAX_STATUS_KEYS errors of 1,500; the Nack lists 100 and
    must say 1,400 more, not two partial counts."""
    errors = tuple((f"route/10.{i // 256}.{i % 256}.0/24", "VPP said -7") for i in range(1_000))
    nack = nack_for(ApplyOutcome(3, errors=errors, failed_objects=1_500))
    assert len(nack.errors) == MAX_NACK_ERRORS
    assert nack.message == f"{1_500 - MAX_NACK_ERRORS} more object error(s) not listed"
