"""docker-compose.yml validates against the Compose specification, offline."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "docker-compose.yml"


def check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.compose-spec",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_compose_file_is_valid() -> None:
    result = check(COMPOSE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_has_the_services_and_their_order() -> None:
    document = yaml.safe_load(COMPOSE.read_text())
    services = document["services"]
    assert {"postgres", "migrate", "api", "node-agent"} <= set(services)
    assert services["migrate"]["command"] == ["switchyard-api", "migrate"]
    assert services["api"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    for name, service in services.items():
        for dependency in service.get("depends_on", {}):
            assert dependency in services, (name, dependency)


def test_the_validator_rejects_a_broken_file(tmp_path: Path) -> None:
    broken = tmp_path / "docker-compose.yml"
    broken.write_text("services:\n  api:\n    image: x\n    ports: 8080\n    restart: sometimes\n")
    assert check(broken).returncode != 0
