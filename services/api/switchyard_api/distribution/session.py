"""One connected agent: what it was sent, and a bounded queue of what it is owed."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from switchyard_contract.nodeconfig import NodeDelta

QUEUE_LIMIT = 64


@dataclass(frozen=True, slots=True)
class Owed:
    delta: NodeDelta
    to_revision: int


class AgentSession:
    def __init__(self, node: str, queue_limit: int = QUEUE_LIMIT) -> None:
        self.node = node
        self.queue_limit = queue_limit
        self.owed: list[Owed] = []
        self.sent_revision: int | None = None  # the revision of the config the agent was sent
        self.acked_revision: int | None = None
        self.needs_snapshot = True
        self.goodbye: tuple[int, str] | None = None  # (Goodbye.Reason, message)
        self.wake = asyncio.Event()
        self.wake.set()
        self.acked = asyncio.Event()

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
        self.goodbye = (reason, message)
        self.wake.set()

    def record_ack(self, revision: int) -> None:
        self.acked_revision = revision
        self.acked.set()
