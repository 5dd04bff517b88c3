"""What the controller accepts from an agent beyond the protobuf schema: the limits of
switchyard_contract.limits. A message outside them is a protocol error."""

from __future__ import annotations

from switchyard.v1 import distribution_pb2 as dpb
from switchyard_contract.limits import (
    MAX_AGENT_VERSION_CHARS,
    MAX_COMPONENT_CHARS,
    MAX_COMPONENTS,
    MAX_ERROR_KEY_CHARS,
    MAX_ERROR_MESSAGE_CHARS,
    MAX_NACK_ERRORS,
    MAX_STATUS_KEYS,
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
    return None
