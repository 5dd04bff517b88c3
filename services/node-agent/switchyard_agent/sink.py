"""What the stream hands configuration to: the ConfigSink protocol (the agent implements it),
the outcome of applying one revision, and object-by-object decoding."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Protocol

from switchyard.v1 import distribution_pb2 as dpb
from switchyard.v1 import nodeconfig_pb2 as pb
from switchyard_contract.codec import CodecError, from_proto
from switchyard_contract.limits import (
    MAX_ERROR_KEY_CHARS,
    MAX_PENDING_REASON_CHARS,
    MAX_PENDING_WAITING_FOR,
    MAX_STATUS_PENDING,
    clip,
)
from switchyard_contract.limits import MAX_STATUS_KEYS as _MAX_STATUS_KEYS
from switchyard_contract.nodeconfig import NodeObject

from .reconciler import ApplyResult

# Status messages list at most this many pending keys (pending_count says how many in all).
MAX_STATUS_KEYS: Final = _MAX_STATUS_KEYS


def decode_objects(
    messages: Iterable[pb.NodeObject],
    into: dict[str, NodeObject],
    errors: dict[str, str],
) -> None:
    """Decode object by object: a bad object lands in `errors` (by key) and the rest decode.
    A duplicate key keeps its first object and is reported."""
    for message in messages:
        try:
            obj = from_proto(message)
        except CodecError as exc:
            errors.setdefault(exc.key, f"cannot decode: {exc.message}")
            continue
        if obj.key in into:
            errors.setdefault(obj.key, "cannot decode: duplicate key")
            continue
        into[obj.key] = obj


def fill_pending(status: dpb.Status, result: ApplyResult) -> None:
    """The node's pending objects into `status`, within the controller's limits: the exact
    count, the first keys (for controllers that read only those), and the first objects
    with what each waits for."""
    status.pending_count = len(result.pending)
    status.pending_keys.extend(result.pending[:MAX_STATUS_KEYS])
    for waiting in result.waiting[:MAX_STATUS_PENDING]:
        status.pending.add(
            key=clip(waiting.key, MAX_ERROR_KEY_CHARS),
            waiting_for=[
                clip(dep, MAX_ERROR_KEY_CHARS)
                for dep in waiting.waiting_for[:MAX_PENDING_WAITING_FOR]
            ],
            reason=clip(waiting.reason, MAX_PENDING_REASON_CHARS),
        )


@dataclass(frozen=True, slots=True)
class ApplyOutcome:
    """How one revision went: Ack when `ok`, else Nack with the per-object errors."""

    revision: int
    errors: tuple[tuple[str, str], ...] = ()  # (key, message), sorted by key
    message: str = ""  # not about one object
    # How many objects failed, when `errors` lists only the first of them.
    failed_objects: int | None = None

    @property
    def unlisted(self) -> int:
        total = len(self.errors) if self.failed_objects is None else self.failed_objects
        return total - len(self.errors)

    @property
    def ok(self) -> bool:
        return not self.errors and not self.message


class ConfigSink(Protocol):
    """What the stream hands configuration to (the agent). The async methods may take long
    (they wait for the reconciler); the others are cheap reads of the latest state."""

    @property
    def applied_revision(self) -> int | None:
        """The revision of the configuration held and applied; None when none."""
        ...

    async def node_facts(self) -> dpb.NodeFacts: ...

    async def apply_snapshot(self, chunks: Sequence[dpb.Snapshot]) -> ApplyOutcome: ...

    async def apply_delta(self, chunks: Sequence[dpb.Delta]) -> ApplyOutcome: ...

    def status(self) -> dpb.Status: ...

    def converged(self, revision: int) -> bool:
        """Whether `revision` is the one held and the node now has no failures."""
        ...
