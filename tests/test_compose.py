"""docker-compose.yml validates against the Compose specification, offline."""

from __future__ import annotations

import re
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
    assert services["migrate"]["command"][0].startswith("switchyard-api migrate &&")
    assert services["api"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    for name, service in services.items():
        for dependency in service.get("depends_on", {}):
            assert dependency in services, (name, dependency)
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            assert source.startswith(".") or source in document["volumes"], (name, volume)


def test_compose_runs_a_real_agent_with_the_recording_driver() -> None:
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    agent = services["node-agent"]
    assert agent["command"][0] == "switchyard-agent" and "--version" not in agent["command"]
    assert "--drivers=recording" in agent["command"]
    assert "--token-file=/tokens/demo.token" in agent["command"]
    assert "profiles" not in agent  # part of `docker compose up`
    assert "token create --role node --node demo" in services["migrate"]["command"][0]
    assert (ROOT / "deploy" / "demo" / "node.yaml").exists()


def test_every_service_builds_its_programs_image_target() -> None:
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    targets = {name: s["build"]["target"] for name, s in services.items() if "build" in s}
    assert targets == {"migrate": "api", "api": "api", "seed": "cli", "node-agent": "agent"}
    stages = re.findall(r"^FROM \S+ AS (\w+)$", (ROOT / "Dockerfile").read_text(), re.M)
    assert set(targets.values()) <= set(stages)


def test_the_agents_arguments_parse_as_the_agent_takes_them() -> None:
    from switchyard_agent.cli import build_parser, load_settings

    command = yaml.safe_load(COMPOSE.read_text())["services"]["node-agent"]["command"]
    args = build_parser().parse_args(command[1:])
    settings = load_settings(args)
    assert settings.node == "demo" and settings.driver_names == ("recording",)


def test_the_validator_rejects_a_broken_file(tmp_path: Path) -> None:
    broken = tmp_path / "docker-compose.yml"
    broken.write_text("services:\n  api:\n    image: x\n    ports: 8080\n    restart: sometimes\n")
    assert check(broken).returncode != 0
