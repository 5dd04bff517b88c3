"""What one reconciler call reports: the agent turns it into an ACK or a NACK."""

from __future__ import annotations

from dataclasses import dataclass

from ..descriptors import kind_of


@dataclass(frozen=True, slots=True)
class Failure:
    key: str
    message: str
    retriable: bool = False

    @property
    def kind(self) -> str:
        return kind_of(self.key)


@dataclass(frozen=True, slots=True)
class Waiting:
    """A pending object and why: the dependencies it waits for (empty when it waits for no
    object: a disconnected dataplane, a deletion deferred while others use it) and a reason
    a person can act on."""

    key: str
    waiting_for: tuple[str, ...]
    reason: str


@dataclass(frozen=True, slots=True)
class ApplyResult:
    """`failures` and `pending` describe the whole node after the call (a NACK lists every
    error in effect at `revision`); the counters and `new_failures` only this call's work.

    `not_applied` are the pending keys the node must not claim as applied: every pending key
    except those waiting (directly or through other such keys) for something only the outside
    brings (a pod interface VPP does not have yet). `retrying` are the failed keys that will be
    tried again by themselves. `waiting` explains each pending key, in the same order."""

    revision: int
    failures: tuple[Failure, ...] = ()
    pending: tuple[str, ...] = ()
    created: int = 0
    updated: int = 0
    deleted: int = 0
    new_failures: tuple[Failure, ...] = ()
    suspended: tuple[str, ...] = ()  # dataplanes that lost their connection: resync them
    not_applied: tuple[Failure, ...] = ()
    retrying: tuple[str, ...] = ()
    waiting: tuple[Waiting, ...] = ()

    @property
    def ok(self) -> bool:
        # Pending is not an error: a binding waits for its pod interface to be plugged.
        return not self.failures

    @property
    def converged(self) -> bool:
        """Everything desired is applied, or waits only for an interface to appear."""
        return not self.failures and not self.not_applied and not self.suspended

    @property
    def needs_resync(self) -> bool:
        return bool(self.suspended)
