"""Fixtures of the VPP driver tests: one emulator per module, reset per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from switchyard_agent.drivers.vpp import VppConnection
from tests.vppemu.harness import Emulator


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    emulator = Emulator(tmp_path_factory.mktemp("vppemu")).start()
    yield emulator
    emulator.stop()


@pytest.fixture(scope="module")
def shared_conn(emu: Emulator) -> Iterator[VppConnection]:
    connection = VppConnection(str(emu.socket_path), read_timeout=3.0)
    connection.connect()
    yield connection
    connection.disconnect()


@pytest.fixture
def fresh(emu: Emulator) -> Emulator:
    """The module's emulator, running and empty (its clients stay connected)."""
    if not emu.running:
        emu.start()
    emu.reset(drop_connections=False)
    return emu


@pytest.fixture
def conn(fresh: Emulator, shared_conn: VppConnection) -> VppConnection:
    """A connection to the fresh emulator (connecting costs ~1 s: shared by the module)."""
    if not shared_conn.connected:
        shared_conn.reconnect()
    fresh.reset_counts()
    return shared_conn
