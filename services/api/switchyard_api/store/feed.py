"""Wakes asynchronous readers of the change log when a commit lands, here or on another replica."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import psycopg

from .transaction import NOTIFY_CHANNEL, REVOKED_PAYLOAD

log = logging.getLogger("switchyard.feed")


class ChangeFeed:
    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event = asyncio.Event()
        self.latest = 0
        self._revoked = asyncio.Event()
        # Called (from any thread) on every revocation, e.g. to drop cached token roles.
        self.on_revocation: list[Callable[[], None]] = []

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def publish(self, revision: int) -> None:
        """Thread-safe: called from request threads after commit and from the listener."""
        if self._loop is None or self._loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # loop shutting down
            self._loop.call_soon_threadsafe(self._wake, revision)

    def _wake(self, revision: int) -> None:
        self.latest = max(self.latest, revision)
        event, self._event = self._event, asyncio.Event()
        event.set()

    def publish_revocation(self) -> None:
        """Thread-safe: a token was deleted (here or, by NOTIFY, on another replica)."""
        for callback in self.on_revocation:
            callback()
        if self._loop is None or self._loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # loop shutting down
            self._loop.call_soon_threadsafe(self._revoked.set)

    async def wait_revocation(self, timeout: float) -> None:
        """Until a revocation is published or `timeout` passes."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._revoked.wait(), timeout)
        self._revoked.clear()

    async def wait(self, timeout: float) -> bool:
        """True when something was published before the timeout."""
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
            return True
        except TimeoutError:
            return False


async def listen_for_commits(conninfo: str, feed: ChangeFeed) -> None:
    """LISTEN on PostgreSQL and publish every notified revision. Reconnects forever; a
    notification lost while disconnected only delays readers, which also poll the log."""
    delay = 0.5
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
                await conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                delay = 0.5
                async for notification in conn.notifies():
                    if notification.payload.isdigit():
                        feed.publish(int(notification.payload))
                    elif notification.payload == REVOKED_PAYLOAD:
                        feed.publish_revocation()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("LISTEN connection lost (%s); retrying in %.1fs", exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)
