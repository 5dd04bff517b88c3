"""Fixtures of the CNI tests: the emulated VPP (with the loopback the pods' taps are
unnumbered to), a real agent serving CNI, and network namespaces."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.vppemu.harness import Emulator

from .support import AgentProcess, agent_command, netns, require_cni_host

__all__ = ["netns"]
LOOPBACK = "loop0"


@pytest.fixture
def cni_host() -> None:
    require_cni_host()


@pytest.fixture
def emulator(cni_host: None, tmp_path: Path) -> Iterator[Emulator]:
    (tmp_path / "vpp").mkdir()
    emu = Emulator(tmp_path / "vpp").start()
    emu.add_interface(LOOPBACK, "Loopback")
    yield emu
    emu.stop()


def make_agent(
    tmp_path: Path, emulator: Emulator, api: str = "127.0.0.1:1", token: str = "t"
) -> AgentProcess:
    socket = tmp_path / "run" / "cni.sock"
    command = agent_command(api, token, emulator.socket_path, tmp_path / "agent", socket)
    return AgentProcess(command, tmp_path / "agent.log", socket)


@pytest.fixture
def agent(emulator: Emulator, tmp_path: Path) -> Iterator[AgentProcess]:
    """An agent with no controller (fail static): enough for the plugin's own behaviour."""
    running = make_agent(tmp_path, emulator).start()
    yield running
    running.stop()
