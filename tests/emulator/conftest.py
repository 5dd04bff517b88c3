"""One emulator per test module, and a vpp_papi client of it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from vpp_papi import VPPApiClient

from tests.vppemu.harness import Emulator


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    emulator = Emulator(tmp_path_factory.mktemp("vppemu")).start()
    yield emulator
    emulator.stop()


@pytest.fixture(scope="module")
def client(emu: Emulator) -> VPPApiClient:
    return VPPApiClient(apidir=str(emu.apidir), server_address=str(emu.socket_path))


@pytest.fixture
def vpp(emu: Emulator, client: VPPApiClient) -> Iterator[Any]:
    """A connected client to a fresh (empty) emulated VPP."""
    if not emu.running:
        emu.start()
    emu.reset()
    client.connect("pytest")
    yield client.api
    client.disconnect()
