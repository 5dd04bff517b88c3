"""What the controller accepts from an agent beyond the protobuf schema: the limits of
switchyard_contract.limits. A message outside them is a protocol error. Also how a Status's
pending objects read, whether an agent sends them with their reasons or (older) keys only."""

from __future__ import annotations

from typing import Any

from switchyard.v1 import distribution_pb2 as dpb
from switchyard_contract.limits import (
    MAX_AGENT_VERSION_CHARS,
    MAX_COMPONENT_CHARS,
    MAX_COMPONENTS,
    MAX_ERROR_KEY_CHARS,
    MAX_ERROR_MESSAGE_CHARS,
    MAX_NACK_ERRORS,
    MAX_PENDING_REASON_CHARS,
    MAX_PENDING_WAITING_FOR,
    MAX_STATUS_KEYS,
    MAX_STATUS_PENDING,
)


def hello_problem(hello: dpb.Hello) -> str | None:
    if len(hello.agent_version) > MAX_AGENT_VERSION_CHARS:
        return f"Hello.agent_version is longer than {MAX_AGENT_VERSION_CHARS} characters"
    return None


def nack_problem(nack: dpb.Nack) -> str | None:
    if len(nack.errors) > MAX_NACK_ERRORS:
        return f"Nack lists {len(nack.errors)} object errors; at most {MAX_NACK_ERRORS}"
    if len(nack.message) > MAX_ERROR_MESSAGE_CHARS:
        return f"Nack.message is longer than {MAX_ERROR_MESSAGE_CHARS} characters"
    for index, error in enumerate(nack.errors):
        if len(error.key) > MAX_ERROR_KEY_CHARS:
            return f"Nack.errors[{index}].key is longer than {MAX_ERROR_KEY_CHARS} characters"
        if len(error.message) > MAX_ERROR_MESSAGE_CHARS:
            return (
                f"Nack.errors[{index}].message is longer than {MAX_ERROR_MESSAGE_CHARS} characters"
            )
    return None


def status_problem(status: dpb.Status) -> str | None:
    if len(status.pending_keys) > MAX_STATUS_KEYS:
        return f"Status lists {len(status.pending_keys)} pending keys; at most {MAX_STATUS_KEYS}"
    if len(status.last_error) > MAX_ERROR_MESSAGE_CHARS:
        return f"Status.last_error is longer than {MAX_ERROR_MESSAGE_CHARS} characters"
    if len(status.components) > MAX_COMPONENTS:
        return f"Status lists {len(status.components)} components; at most {MAX_COMPONENTS}"
    for name, state in status.components.items():
        if len(name) > MAX_COMPONENT_CHARS or len(state) > MAX_COMPONENT_CHARS:
            return f"Status.components entries are at most {MAX_COMPONENT_CHARS} characters"
    return pending_problem(status)


def pending_problem(status: dpb.Status) -> str | None:
    """Status.pending and pending_count: bounded, and a count no smaller than what is listed."""
    if len(status.pending) > MAX_STATUS_PENDING:
        return f"Status lists {len(status.pending)} pending objects; at most {MAX_STATUS_PENDING}"
    if status.HasField("pending_count"):
        listed = max(len(status.pending), len(status.pending_keys))
        if status.pending_count < listed:
            return f"Status.pending_count is {status.pending_count}, but {listed} are listed"
    for index, pending in enumerate(status.pending):
        where = f"Status.pending[{index}]"
        if not pending.key:
            return f"{where}.key is empty"
        if len(pending.key) > MAX_ERROR_KEY_CHARS:
            return f"{where}.key is longer than {MAX_ERROR_KEY_CHARS} characters"
        if len(pending.waiting_for) > MAX_PENDING_WAITING_FOR:
            return (
                f"{where} ({pending.key}) lists {len(pending.waiting_for)} dependencies; "
                f"at most {MAX_PENDING_WAITING_FOR}"
            )
        if any(len(dep) > MAX_ERROR_KEY_CHARS for dep in pending.waiting_for):
            return f"{where}.waiting_for entries are at most {MAX_ERROR_KEY_CHARS} characters"
        if len(pending.reason) > MAX_PENDING_REASON_CHARS:
            return f"{where}.reason is longer than {MAX_PENDING_REASON_CHARS} characters"
    return None


# What a node's status says for a pending key an (older) agent sent without its reason.
UNEXPLAINED = "not said: the agent reports pending keys only"


def reported_pending(status: dpb.Status, listed: int) -> tuple[int, list[dict[str, Any]]]:
    """How many objects are pending on the node, and at most `listed` of them with what each
    waits for. An agent without `pending_count` sends keys only: the count is theirs."""
    if not status.HasField("pending_count"):
        keys = status.pending_keys[:listed]
        return len(status.pending_keys), [
            {"key": key, "waitingFor": [], "reason": UNEXPLAINED} for key in keys
        ]
    return status.pending_count, [
        {"key": p.key, "waitingFor": list(p.waiting_for), "reason": p.reason}
        for p in status.pending[:listed]
    ]
