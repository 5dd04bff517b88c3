"""A live API server and a runner for the real `switchyard` command."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from switchyard_api.store.db import upgrade_to_head
from tests.api.support import ADMIN_TOKEN, LiveServer


@dataclass
class Cli:
    """Runs `switchyard` with the server's URL and the admin token in its environment."""

    env: dict[str, str]
    cwd: Path

    def __call__(
        self, *args: str, stdin: str | None = None, timeout: float = 60, **env: str
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "switchyard_cli.main", *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=self.cwd,
            env={**self.env, **env},
        )

    def ok(self, *args: str, stdin: str | None = None, **env: str) -> str:
        done = self(*args, stdin=stdin, **env)
        assert done.returncode == 0, done.stderr
        return done.stdout


def cli_for(url: str, home: Path) -> Cli:
    home.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHYARD_")}
    env.update(HOME=str(home), SWITCHYARD_API=url, SWITCHYARD_TOKEN=ADMIN_TOKEN)
    return Cli(env, home)


def assert_one_line_error(done: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("switchyard: error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    url = f"sqlite:///{tmp_path}/db.sqlite"
    upgrade_to_head(url)
    with LiveServer(url) as live:
        yield live


@pytest.fixture
def cli(server: LiveServer, tmp_path: Path) -> Cli:
    return cli_for(server.url, tmp_path / "home")


@pytest.fixture
def cluster(fresh_postgres_url: str, tmp_path: Path) -> Iterator[Any]:
    """A real API with an agent fleet (tests/cli/cluster.py)."""
    from tests.distribution.agents import AgentFleet

    from .cluster import Cluster

    fleet = AgentFleet(tmp_path / "agents")
    try:
        with LiveServer(fresh_postgres_url) as server:
            yield Cluster(server, fleet, cli_for(server.url, tmp_path / "home"))
    finally:
        fleet.close()
