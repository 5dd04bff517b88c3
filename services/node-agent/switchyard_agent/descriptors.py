"""The contract between the reconciler and a driver: one descriptor per object kind.

Modelled on Ligato's KV scheduler: a descriptor knows how to create, update, delete and dump
one kind of dataplane object, which keys it needs first, and which errors are worth retrying.
The reconciler owns ordering, retries, ownership and bookkeeping; a descriptor stays a thin,
blocking adapter over one API (vpp_papi or GoBGP's gRPC).

Keys are "<kind>/<identity>" (or just "<kind>" for singletons such as "snat"), so the
reconciler can route a removal, which carries only a key, to its descriptor.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar, Generic, Protocol, TypeVar

V = TypeVar("V")
KeyedT = TypeVar("KeyedT", bound="Keyed")


class Keyed(Protocol):
    @property
    def key(self) -> str: ...


def kind_of(key: str) -> str:
    """The kind a key belongs to: the text before the first "/"."""
    return key.partition("/")[0]


class DescriptorError(Exception):
    """An error whose retry classification the descriptor already knows."""

    retriable: ClassVar[bool] = False


class TransientError(DescriptorError):
    """Worth retrying as is: VPP busy, a GoBGP call that timed out, a table momentarily full."""

    retriable = True


class PermanentError(DescriptorError):
    """Retrying the same value cannot help (bad value, unsupported feature): report it."""

    retriable = False


class ConnectionLost(TransientError):
    """The dataplane connection dropped (socket loss on VPP, UNAVAILABLE from GoBGP).

    The reconciler then suspends every descriptor of that dataplane (no more calls into a dead
    socket) and reports it; the agent reconnects and calls `resync(dataplane)`, which dumps
    the real state again, because a restart may have wiped it.
    """


@dataclass(frozen=True, slots=True)
class Dumped(Generic[V]):
    """One object read back from the dataplane.

    `owned` is False for objects the agent did not create (other tools, the operator, a
    previous foreign controller): the reconciler never updates or deletes those. A read-only
    kind (e.g. the interfaces VPP has) dumps only foreign objects; they satisfy dependencies.
    `metadata` is what the dataplane assigned (ACL index, translation id); the reconciler hands
    it back to `update`/`delete`.
    """

    value: V
    owned: bool = True
    metadata: object = None


class Descriptor(Protocol[V]):
    """How the reconciler drives one kind. All calls happen on the reconciler's single worker
    thread, so implementations may use a non-thread-safe client (vpp_papi's sync client)."""

    @property
    def kind(self) -> str:
        """Key prefix this descriptor serves."""
        ...

    @property
    def dataplane(self) -> str:
        """Connection this kind goes through ("vpp", "gobgp"): a ConnectionLost from one
        descriptor suspends every descriptor of the same dataplane until resync."""
        ...

    def key(self, value: V) -> str: ...

    def equivalent(self, desired: V, actual: V) -> bool:
        """Whether `actual` (recorded, or dumped) already fulfils `desired`; compare only what
        the dataplane reports faithfully (cnat dumps read flags back as 0)."""
        ...

    def dependencies(self, value: V) -> Iterable[str]:
        """Keys that must be applied (or be present in the dataplane, e.g. an interface that
        VPP reports) before `value` can be created or updated."""
        ...

    def can_update(self, old: V, new: V) -> bool:
        """False when `new` can only be reached by delete + create (e.g. a cnat translation
        whose flow hash changed: VPP ignores it on update)."""
        ...

    def create(self, value: V) -> object:
        """Apply a new object; return its metadata. Must be idempotent (it may be retried)."""
        ...

    def update(self, old: V, new: V, metadata: object) -> object:
        """Move an existing object from `old` to `new` in place; return new metadata."""
        ...

    def delete(self, value: V, metadata: object) -> None:
        """Remove an object this agent owns. Ids may be stale after a dataplane restart:
        re-read them from a dump before deleting when the dataplane reuses ids."""
        ...

    def dump(self) -> Iterable[Dumped[V]]:
        """Everything of this kind the dataplane has, with ownership. A driver whose dump
        lacks fields (cnat) completes the values from its own persisted records."""
        ...

    def is_retriable(self, error: Exception) -> bool:
        """Classify an error raised by this descriptor: True = transient."""
        ...


class BaseDescriptor(Generic[KeyedT]):
    """Defaults for descriptors of keyed values; subclasses set `kind` and `dataplane` and
    implement create/delete/dump, plus `update` and `can_update` where in-place updates exist
    (without them every change is delete + create)."""

    kind: str = ""
    dataplane: str = ""

    def key(self, value: KeyedT) -> str:
        return value.key

    def equivalent(self, desired: KeyedT, actual: KeyedT) -> bool:
        return desired == actual

    def dependencies(self, value: KeyedT) -> Iterable[str]:
        return ()

    def can_update(self, old: KeyedT, new: KeyedT) -> bool:
        return False

    def create(self, value: KeyedT) -> object:
        raise PermanentError(f"{self.kind}: create is not supported")

    def update(self, old: KeyedT, new: KeyedT, metadata: object) -> object:
        raise PermanentError(f"{self.kind}: update is not supported")

    def delete(self, value: KeyedT, metadata: object) -> None:
        raise PermanentError(f"{self.kind}: delete is not supported")

    def dump(self) -> Iterable[Dumped[KeyedT]]:
        return ()

    def is_retriable(self, error: Exception) -> bool:
        # Unknown exceptions are permanent: retrying a bug only hides it.
        return isinstance(error, DescriptorError) and error.retriable
