"""The console scripts as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from .support import LiveServer

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run(
        [sys.executable, "-m", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def test_serve_refuses_a_database_behind_the_head_and_says_how_to_fix(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/fresh.db"
    result = run("switchyard_api.cli", "serve", env={"SWITCHYARD_DATABASE_URL": url})
    assert result.returncode == 2
    assert "switchyard-api migrate" in result.stderr


def test_migrate_then_token_create_prints_a_working_token(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/db.sqlite"
    migrated = run("switchyard_api.cli", "migrate", "--database-url", url)
    assert migrated.returncode == 0, migrated.stderr
    created = run(
        "switchyard_api.cli", "token", "create", "--role", "writer", "--database-url", url
    )
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert token.startswith("sy_")
    with LiveServer(url) as server, server.client(token) as client:
        assert (
            client.put("/v1/nodes/n1", json={"spec": {"addresses": ["192.0.2.1"]}}).status_code
            == 201
        )
        assert client.post("/v1/tokens", json={"role": "admin"}).status_code == 403


def test_openapi_command_prints_the_committed_document() -> None:
    result = run("switchyard_api.cli", "openapi")
    assert result.returncode == 0
    assert json.loads(result.stdout) == json.loads((ROOT / "openapi.json").read_text())
