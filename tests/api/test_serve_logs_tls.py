"""`switchyard-api` as a process: JSON log lines (one access-log format, no lines per health
probe, context fields), and REST over TLS with a throwaway CA, used by the CLI with --ca."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.distribution.test_tls import openssl

from .support import ADMIN_TOKEN, free_port


def api_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHYARD_")}
    env.update(
        SWITCHYARD_DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite",
        SWITCHYARD_ADMIN_TOKEN=ADMIN_TOKEN,
        SWITCHYARD_GRPC_LISTEN="127.0.0.1:0",
        **extra,
    )
    return env


def api(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "switchyard_api.cli", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)


@contextmanager
def serving(env: dict[str, str], url: str, *args: str) -> Iterator[subprocess.Popen[str]]:
    command = [sys.executable, "-m", "switchyard_api.cli", "serve", *args]
    proc = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{url}/healthz", verify=False, timeout=1)
                break
            except httpx.HTTPError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"serve did not start: {proc.communicate()[1]}") from None
                time.sleep(0.1)
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=20)


def json_lines(text: str) -> list[dict[str, object]]:
    entries = [json.loads(line) for line in text.splitlines() if line.strip()]
    for entry in entries:
        assert {"timestamp", "level", "logger", "message"} <= set(entry), entry
    return entries


def test_every_command_logs_json_lines_and_probes_log_nothing(tmp_path: Path) -> None:
    env = api_env(tmp_path)
    migrated = api("migrate", "--log-format", "json", env=env)
    assert migrated.returncode == 0, migrated.stderr
    assert any("Running upgrade" in str(e["message"]) for e in json_lines(migrated.stderr))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env.update(SWITCHYARD_HTTP_LISTEN=f"127.0.0.1:{port}", SWITCHYARD_LOG_FORMAT="json")
    with serving(env, url) as proc:
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}", "X-Request-ID": "req-42"}
        for probe in ("/healthz", "/readyz", "/readyz", "/metrics"):
            assert httpx.get(url + probe).status_code == 200
        answered = httpx.get(f"{url}/v1/namespaces", headers=headers)
        assert answered.headers["x-request-id"] == "req-42"
        assert httpx.get(f"{url}/v1/nodes/missing", headers=headers).status_code == 404
        proc.terminate()
        _, stderr = proc.communicate(timeout=20)
    entries = json_lines(stderr)  # every line, uvicorn's included, is JSON
    access = [e for e in entries if e["logger"] == "switchyard.access"]
    assert [(e["method"], e["path"], e["status"], e["request_id"]) for e in access] == [
        ("GET", "/v1/namespaces", 200, "req-42"),
        ("GET", "/v1/nodes/missing", 404, "req-42"),
    ]
    assert all(isinstance(e["duration_ms"], float | int) for e in access)
    assert not [e for e in entries if "alembic" in str(e["logger"])]  # /readyz says nothing
    assert not [e for e in entries if "healthz" in str(e["message"])]
    assert any(e["logger"] == "uvicorn.error" for e in entries)


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A throwaway CA and a server certificate for 127.0.0.1 signed by it."""
    d = tmp_path_factory.mktemp("rest-pki")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=test-ca",
            "-keyout", "ca.key", "-out", "ca.pem", cwd=d)  # fmt: skip
    (d / "san.cnf").write_text("subjectAltName=IP:127.0.0.1\n")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=switchyard-api",
            "-keyout", "server.key", "-out", "server.csr", cwd=d)  # fmt: skip
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "1", "-extfile", "san.cnf", "-out", "server.pem",
            cwd=d)  # fmt: skip
    return d


def test_rest_over_tls_with_the_cli_trusting_the_ca(tmp_path: Path, certificates: Path) -> None:
    env = api_env(tmp_path)
    assert api("migrate", env=env).returncode == 0
    port = free_port()
    url = f"https://127.0.0.1:{port}"
    env["SWITCHYARD_HTTP_LISTEN"] = f"127.0.0.1:{port}"
    env["SWITCHYARD_TLS_KEY"] = str(certificates / "server.key")  # env and flag both work
    tls = ("--tls-cert", str(certificates / "server.pem"))
    with serving(env, url, *tls):
        ca = str(certificates / "ca.pem")
        trust = ssl.create_default_context(cafile=ca)
        assert httpx.get(f"{url}/readyz", verify=trust).json()["status"] == "ready"
        with pytest.raises(httpx.TransportError):  # no plaintext on the TLS port
            httpx.get(f"http://127.0.0.1:{port}/readyz")
        cli_env = {k: v for k, v in env.items() if not k.startswith("SWITCHYARD_")}
        cli_env.update(HOME=str(tmp_path), SWITCHYARD_API=url, SWITCHYARD_TOKEN=ADMIN_TOKEN)

        def cli(*args: str) -> subprocess.CompletedProcess[str]:
            command = [sys.executable, "-m", "switchyard_cli.main", *args]
            return subprocess.run(command, env=cli_env, capture_output=True, text=True, timeout=60)

        trusted = cli("get", "namespaces", "--ca", ca, "-o", "name")
        assert trusted.returncode == 0, trusted.stderr
        untrusted = cli("get", "namespaces")
        assert untrusted.returncode == 1
        assert "CERTIFICATE_VERIFY_FAILED" in untrusted.stderr
        assert len(untrusted.stderr.strip().splitlines()) == 1


def test_a_certificate_without_a_key_is_refused(tmp_path: Path, certificates: Path) -> None:
    env = api_env(tmp_path)
    done = api("serve", "--tls-cert", str(certificates / "server.pem"), env=env)
    assert done.returncode != 0
    assert "tls_cert and tls_key go together" in done.stderr
    assert "Traceback" not in done.stderr
