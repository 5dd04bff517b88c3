"""VPP's interface events: `want_interface_events` subscribes this client, and VPP then sends
`sw_interface_event` (no context: vpp_papi hands it to the connection's event callback on its
reader thread) when an interface changes admin or link state or is deleted. The agent dumps
the interfaces when one arrives, so objects waiting for a new pod interface are applied at
once; the periodic dump covers what sends no event (an interface created and left down) and a
VPP without the messages."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

from .connection import VppApiError, VppConnection

log = logging.getLogger(__name__)

EVENT = "sw_interface_event"
SUBSCRIBE = "want_interface_events"


class InterfaceEvents:
    def __init__(self, connection: VppConnection) -> None:
        self.connection = connection
        self.received = 0
        # sw_if_index -> deletions seen: VPP reuses indices, so an interface deleted and
        # re-created between two dumps is told apart by this count.
        self.deletions: dict[int, int] = {}
        self._changed: Callable[[], None] | None = None
        connection.on_connect.append(self._subscribe)
        connection.event_handlers[EVENT] = self._on_event

    def watch(self, changed: Callable[[], None]) -> None:
        """Call `changed()` (from vpp_papi's reader thread) on every interface event."""
        self._changed = changed
        if self.connection.connected:
            self._subscribe()

    @property
    def available(self) -> bool:
        return self.connection.has(SUBSCRIBE) and self.connection.has(EVENT)

    def _subscribe(self) -> None:
        if self._changed is None:
            return
        if not self.available:
            log.info("VPP has no interface events: new interfaces are found by the periodic dump")
            return
        try:
            self.connection.call(SUBSCRIBE, enable_disable=1, pid=os.getpid())
        except VppApiError as exc:  # e.g. already registered on this client
            log.warning("cannot subscribe to VPP's interface events: %s", exc)

    def identity(self, sw_if_index: int) -> tuple[int, int]:
        return (sw_if_index, self.deletions.get(sw_if_index, 0))

    def _on_event(self, message: Any) -> None:
        self.received += 1
        if message.deleted:
            index = int(message.sw_if_index)
            self.deletions[index] = self.deletions.get(index, 0) + 1
        changed = self._changed
        if changed is not None:
            changed()
