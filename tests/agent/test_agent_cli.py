"""`switchyard-agent`: flags, environment, errors, and a real process against a controller."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from switchyard.v1 import distribution_pb2 as dpb
from switchyard_agent.cli import build_parser, load_settings, main
from switchyard_agent.drivers.factory import DriverOptions, DriverUnavailable, build_drivers
from switchyard_contract.nodeconfig import Acl, BgpGlobal, SnatConfig

from .fake_controller import FakeController, FakeSession, objects

FLAGS = (
    "--api",
    "--node",
    "--token",
    "--token-file",
    "--tls-ca",
    "--tls-cert",
    "--tls-key",
    "--state-dir",
    "--metrics-listen",
    "--drivers",
    "--vpp-api-socket",
    "--gobgp-api",
    "--allow-ipv6-frontends",
    "--reconnect-backoff-min",
    "--reconnect-backoff-max",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith("SWITCHYARD_"):
            monkeypatch.delenv(name)
    yield


def test_help_lists_the_flags(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    for flag in FLAGS:
        assert flag in out, flag
    assert "SWITCHYARD_" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--api", "127.0.0.1:1", "--token", "t"], "--node (or SWITCHYARD_NODE) is required"),
        (["--api", "127.0.0.1:1", "--node", "n1"], "a token (or token_file, or an mTLS client"),
        (["--node", "n1", "--token", "t"], "--api (or SWITCHYARD_API) is required"),
        (["--api", "nope", "--node", "n1", "--token", "t"], "--api (or SWITCHYARD_API): 'nope'"),
        (
            ["--api", "h:1", "--node", "n", "--token", "t", "--drivers", "vpp,bird"],
            "unknown driver(s) bird",
        ),
        (
            ["--api", "h:1", "--node", "n", "--token", "t", "--tls-cert", "c", "--tls-key", "k"],
            "needs tls_ca",
        ),
    ],
)
def test_bad_settings_exit_2_with_a_clear_error(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "usage: switchyard-agent" in err
    assert message in err


def test_environment_fills_in_and_flags_win(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SWITCHYARD_API", "api.example:9090")
    monkeypatch.setenv("SWITCHYARD_NODE", "from-env")
    monkeypatch.setenv("SWITCHYARD_TOKEN", "env-token")
    monkeypatch.setenv("SWITCHYARD_ALLOW_IPV6_FRONTENDS", "true")
    monkeypatch.setenv("SWITCHYARD_METRICS_LISTEN", "off")
    args = build_parser().parse_args(["--node", "from-flag", "--state-dir", str(tmp_path)])
    settings = load_settings(args)
    assert (settings.api, settings.node, settings.bearer_token()) == (
        "api.example:9090",
        "from-flag",
        "env-token",
    )
    assert settings.allow_ipv6_frontends and settings.metrics_address is None
    assert settings.state_dir == tmp_path
    assert settings.driver_names == ("vpp", "gobgp")
    assert settings.vpp_api_socket == "/run/vpp/api.sock"
    assert settings.gobgp_api == "127.0.0.1:50051"
    args = build_parser().parse_args(["--no-allow-ipv6-frontends"])
    assert not load_settings(args).allow_ipv6_frontends

    token_file = tmp_path / "token"
    token_file.write_text("file-token\n")
    monkeypatch.delenv("SWITCHYARD_TOKEN")
    args = build_parser().parse_args(["--token-file", str(token_file)])
    assert load_settings(args).bearer_token() == "file-token"


def test_a_driver_that_cannot_load_refuses_to_start(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "switchyard_agent.drivers.vpp", None)  # import fails
    with pytest.raises(DriverUnavailable, match="the vpp driver cannot be loaded"):
        build_drivers(["vpp"], DriverOptions())
    argv = ["--api", "127.0.0.1:1", "--node", "n1", "--token", "t", "--state-dir", str(tmp_path)]
    assert main([*argv, "--drivers", "vpp", "--metrics-listen", "off"]) == 2
    assert "refusing to start: the vpp driver cannot be loaded" in capsys.readouterr().err


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_real_process_acks_a_snapshot_and_serves_health(tmp_path: Path) -> None:
    config = objects(
        Acl("b" * 8, ()), SnatConfig("192.0.2.10", None, ()), BgpGlobal(64512, "192.0.2.1")
    )

    async def script(session: FakeSession) -> None:
        session.snapshot(9, config)

    controller = await FakeController(node="n1", token="tok", on_connect=script).start()
    port = _free_port()
    exe = shutil.which("switchyard-agent", path=str(Path(sys.executable).parent))
    assert exe is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHYARD_")}
    env["SWITCHYARD_TOKEN"] = "tok"  # the environment equivalent of --token
    proc = await asyncio.create_subprocess_exec(
        exe,
        "--drivers",
        "recording",
        "--api",
        controller.target,
        "--node",
        "n1",
        "--state-dir",
        str(tmp_path / "state"),
        "--metrics-listen",
        f"127.0.0.1:{port}",
        "--reconnect-backoff-min",
        "0.05",
        env=env,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        session = await controller.next_session(timeout=15)
        assert session.hello.node == "n1"
        assert await session.ack(timeout=10) == 9
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            health = (await http.get("/healthz")).json()
            assert health == {
                "status": "ok",
                "appliedRevision": 9,
                "lastError": None,
                "controller": "connected",
                "dataplanes": {"vpp": "connected", "gobgp": "connected"},
            }
            metrics = (await http.get("/metrics")).text
            assert "switchyard_agent_applied_revision 9.0" in metrics
        await session.status(lambda s: s.applied_revision == 9)
        assert (tmp_path / "state" / "last-config.snapshot").exists()
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 10) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await controller.stop()
    assert proc.stderr is not None
    log = (await proc.stderr.read()).decode()
    assert "revision 9 applied: ack" in log, log
    assert isinstance(session.received[0], dpb.AgentMessage)


async def test_json_logs_and_healthz_while_the_controller_is_away(tmp_path: Path) -> None:
    """Every line is JSON with the node; /healthz says the controller stream is down while
    the dataplanes are up (the agent keeps serving its last configuration)."""
    port, nowhere = _free_port(), _free_port()
    exe = shutil.which("switchyard-agent", path=str(Path(sys.executable).parent))
    assert exe is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHYARD_")}
    env["SWITCHYARD_LOG_FORMAT"] = "json"
    proc = await asyncio.create_subprocess_exec(
        exe, "--drivers", "recording", "--api", f"127.0.0.1:{nowhere}", "--node", "n7",
        "--token", "tok", "--state-dir", str(tmp_path / "state"),
        "--metrics-listen", f"127.0.0.1:{port}", "--reconnect-backoff-min", "0.05",
        env=env, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        health: dict[str, Any] = {}
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            for _ in range(200):
                try:
                    health = (await http.get("/healthz")).json()
                    break
                except httpx.HTTPError:
                    await asyncio.sleep(0.05)
        assert health["controller"] == "disconnected"
        assert health["dataplanes"] == {"vpp": "connected", "gobgp": "connected"}
        # /healthz can answer before the stream has logged its first failed attempt: read
        # until it has (under load that takes a moment), then stop the agent.
        assert proc.stderr is not None
        lines: list[str] = []
        while not any('"switchyard_agent.stream' in line for line in lines):
            line = await asyncio.wait_for(proc.stderr.readline(), 10)
            assert line, "the agent's log ended before its stream said anything"
            lines.append(line.decode())
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 10) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.stderr is not None
    lines = "".join([*lines, (await proc.stderr.read()).decode()]).splitlines()
    entries = [json.loads(line) for line in lines]
    assert entries and all(e["node"] == "n7" for e in entries)
    for entry in entries:
        assert {"timestamp", "level", "logger", "message"} <= set(entry)
    assert any(e["logger"].startswith("switchyard_agent.stream") for e in entries)
