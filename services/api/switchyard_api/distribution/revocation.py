"""Closing the streams of revoked tokens, on every replica.

Deleting a token wakes this replica at once and the others by NOTIFY (store.feed); a lost
notification (or SQLite, which has none) is covered by checking every `interval` seconds.
"""

from __future__ import annotations

import asyncio
import logging

from switchyard.v1 import distribution_pb2 as dpb

from ..auth import TokenStore
from ..store.feed import ChangeFeed
from .session import AgentSession

log = logging.getLogger("switchyard.distribution")


class RevocationWatch:
    def __init__(
        self,
        sessions: dict[str, AgentSession],
        tokens: TokenStore,
        feed: ChangeFeed,
        interval: float = 1.0,
    ) -> None:
        self.sessions = sessions
        self.tokens = tokens
        self.feed = feed
        self.interval = interval

    async def run(self) -> None:
        while True:
            await self.feed.wait_revocation(self.interval)
            try:
                await self.check()
            except Exception:
                log.exception("checking for revoked agent tokens failed; will retry")

    async def check(self) -> list[str]:
        """Close the sessions whose token is gone; the nodes closed."""
        held = {s.token_id for s in self.sessions.values() if s.token_id is not None}
        if not held:
            return []
        live = await asyncio.to_thread(self.tokens.existing, held)
        closed = []
        revoked = held - live
        for session in list(self.sessions.values()):
            # Only tokens that were asked about: a stream that registered while the query ran
            # holds a token this check knows nothing of, not a revoked one.
            if session.token_id in revoked:
                log.warning("the token of node %s was revoked: closing its stream", session.node)
                session.close(dpb.Goodbye.REASON_REFUSED, "this node's token was revoked")
                closed.append(session.node)
        return closed
