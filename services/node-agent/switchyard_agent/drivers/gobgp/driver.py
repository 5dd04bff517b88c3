"""The GoBGP driver: one gRPC connection to gobgpd, its descriptors, the learned-route source."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from ...descriptors import Descriptor
from ...learned_routes import LocalStateSink
from .. import GOBGP
from ..vpp.state import StateStore
from .connection import GobgpConnection
from .descriptors import GlobalDescriptor, PathDescriptor, PeerDescriptor
from .learned import LearnedRouteWatcher

STATE_FILE: Final = "gobgp-driver-state.jsonl"
DEFAULT_STATE_DIR: Final = Path("/var/lib/switchyard-agent/drivers/gobgp")


class GobgpDriver:
    """A DataplaneDriver (drivers.protocols) and a LocalStateSource."""

    name = GOBGP

    def __init__(self, address: str, state_dir: Path | None = None) -> None:
        self.address = address
        self.connection = GobgpConnection(address)
        directory = state_dir or DEFAULT_STATE_DIR
        directory.mkdir(parents=True, exist_ok=True)
        self.store = StateStore(directory / STATE_FILE)
        self._descriptors: list[Descriptor[Any]] = [
            GlobalDescriptor(self.connection, self.store),
            PeerDescriptor(self.connection, self.store),
            PathDescriptor(self.connection, self.store),
        ]
        self.watcher: LearnedRouteWatcher | None = None

    def descriptors(self) -> Sequence[Descriptor[Any]]:
        return list(self._descriptors)

    def reconnect(self) -> None:
        self.connection.reconnect()

    def start_local_state(self, sink: LocalStateSink) -> Mapping[str, object]:
        """Start watching learned routes; returns those gobgpd has now."""
        if self.watcher is not None:
            self.watcher.stop()
        self.watcher = LearnedRouteWatcher(self.address, sink)
        current = self.watcher.current()
        self.watcher.start()
        return current

    def close(self) -> None:
        try:
            if self.watcher is not None:
                self.watcher.stop()
        finally:
            self.connection.close()
            self.store.close()
