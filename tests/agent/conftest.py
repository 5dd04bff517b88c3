"""Fixtures of the agent tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from .fake_controller import FakeController


@pytest.fixture
async def controller() -> AsyncIterator[FakeController]:
    """A scripted controller on a free port."""
    ctl = await FakeController().start()
    yield ctl
    await ctl.stop()
