"""One connected agent: what it was sent, and a bounded queue of what it is owed."""

from __future__ import annotations

import asyncio
import bisect
from typing import NamedTuple

from switchyard_contract.nodeconfig import NodeDelta

QUEUE_LIMIT = 64
# Revisions sent and not answered yet that an Ack/Nack may still name. An agent answers in
# order; one this far behind has long been given a snapshot instead.
UNANSWERED_LIMIT = 4096


class Wakeup:
    """An asyncio.Event for one waiter that clears as it wakes: the writer of a stream waits
    on it once per message, and Event.wait costs a loop lookup and a waiter list each time."""

    __slots__ = ("_set", "_waiter")

    def __init__(self) -> None:
        self._set = True  # a new stream has something to send first (its snapshot)
        self._waiter: asyncio.Future[None] | None = None

    def set(self) -> None:
        self._set = True
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def is_set(self) -> bool:
        return self._set

    async def wait_and_clear(self) -> None:
        if not self._set:
            self._waiter = waiter = asyncio.get_running_loop().create_future()
            try:
                await waiter
            finally:
                self._waiter = None
        self._set = False


class Owed(NamedTuple):  # one per agent per write: cheaper to make than a dataclass
    delta: NodeDelta
    to_revision: int


class AgentSession:
    def __init__(
        self, node: str, token_id: str | None = None, queue_limit: int = QUEUE_LIMIT
    ) -> None:
        self.node = node
        self.token_id = token_id  # the token that authenticated the stream (revocation)
        self.queue_limit = queue_limit
        self.owed: list[Owed] = []
        self.sent_revision: int | None = None  # the revision of the config the agent was sent
        self.acked_revision: int | None = None
        self.needs_snapshot = True
        self.goodbye: tuple[int, str] | None = None  # (Goodbye.Reason, message)
        self.wake = Wakeup()
        self.acked = asyncio.Event()
        self._unanswered: list[int] = []  # increasing
        self._answered: int | None = None

    def offer(self, delta: NodeDelta, to_revision: int) -> None:
        """Queue a change; a slow agent that falls too far behind gets one fresh snapshot
        instead, so it never holds back the others or grows memory without bound."""
        if not self.needs_snapshot:
            if len(self.owed) >= self.queue_limit:
                self.needs_snapshot = True
                self.owed.clear()
            else:
                self.owed.append(Owed(delta, to_revision))
        self.wake.set()

    def take_owed(self) -> list[Owed]:
        owed, self.owed = self.owed, []
        return owed

    def close(self, reason: int, message: str) -> None:
        """End the stream with a Goodbye; the first reason given is the one the agent gets."""
        if self.goodbye is None:
            self.goodbye = (reason, message)
        self.wake.set()

    # -- what an Ack/Nack may name
    def resumed_from(self, revision: int) -> None:
        """The agent holds `revision` (its Hello) and gets deltas from there."""
        self.needs_snapshot = False
        self.sent_revision = revision
        self._answered = revision

    def mark_sent(self, revision: int) -> None:
        """Called before the first chunk of a revision leaves, so its answer is expected."""
        if not self._unanswered or self._unanswered[-1] < revision:
            self._unanswered.append(revision)
            if len(self._unanswered) > UNANSWERED_LIMIT:
                del self._unanswered[0]

    def accept_answer(self, revision: int) -> bool:
        """True when `revision` was sent on this stream (or is the one last answered: a late
        Ack after a Nack). Older unanswered revisions are passed: the agent answers in order."""
        if revision == self._answered:
            return True
        index = bisect.bisect_left(self._unanswered, revision)
        if index == len(self._unanswered) or self._unanswered[index] != revision:
            return False
        del self._unanswered[: index + 1]
        self._answered = revision
        self.acked_revision = revision
        self.acked.set()
        return True
