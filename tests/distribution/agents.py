"""Real switchyard agents (recording drivers) running in a background event loop."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from switchyard_agent.agent import Agent
from switchyard_agent.drivers.factory import recording_drivers
from switchyard_agent.drivers.recording import RecordingDriver, recording_driver
from switchyard_agent.settings import AgentSettings


@dataclass
class RunningAgent:
    node: str
    agent: Agent
    driver: RecordingDriver
    task: Future[None]

    def held(self) -> dict[str, object]:
        return {**self.driver.vpp.values(), **self.driver.gobgp.values()}


class AgentFleet:
    def __init__(self, state_root: Path) -> None:
        self.state_root = state_root
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.agents: dict[str, RunningAgent] = {}

    def call(self, coroutine: Any, timeout: float = 10) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def start(
        self,
        node: str,
        token: str,
        api: str,
        driver: RecordingDriver | None = None,
        **settings_overrides: Any,
    ) -> RunningAgent:
        driver = driver or recording_driver()
        settings = AgentSettings(
            api=api,
            node=node,
            token=token,
            state_dir=self.state_root / node,
            metrics_listen="off",
            drivers="recording",
            reconnect_backoff_min=0.05,
            reconnect_backoff_max=0.5,
            status_interval=1.0,
            **settings_overrides,
        )

        async def create() -> Agent:
            return Agent(settings, recording_drivers(driver))

        agent: Agent = self.call(create())
        task = asyncio.run_coroutine_threadsafe(agent.run(), self.loop)
        running = RunningAgent(node, agent, driver, task)
        self.agents[node] = running
        return running

    def stop(self, node: str) -> RunningAgent:
        running = self.agents.pop(node)
        self.loop.call_soon_threadsafe(running.agent.stop)
        running.task.result(timeout=10)
        return running

    def close(self) -> None:
        for node in list(self.agents):
            self.stop(node)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
