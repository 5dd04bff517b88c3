"""The gRPC stream over TLS, and mTLS with client-certificate verification."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.api.support import LiveServer, free_port
from tests.waiting import wait_for

from .agents import AgentFleet
from .test_end_to_end import all_at, seed, status


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A throwaway CA, a server certificate for 127.0.0.1 and a client certificate."""
    d = tmp_path_factory.mktemp("pki")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=test-ca",
            "-keyout", "ca.key", "-out", "ca.pem", cwd=d)  # fmt: skip
    (d / "san.cnf").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    for name in ("server", "client"):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}",
                "-keyout", f"{name}.key", "-out", f"{name}.csr", cwd=d)  # fmt: skip
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-days", "1", "-extfile", "san.cnf", "-out", f"{name}.pem",
                cwd=d)  # fmt: skip
    return d


def test_agent_connects_over_mtls_and_plaintext_is_refused(
    fresh_postgres_url: str, pki: Path, tmp_path: Path
) -> None:
    port = free_port()
    with LiveServer(
        fresh_postgres_url,
        grpc_listen=f"127.0.0.1:{port}",
        grpc_tls_cert=str(pki / "server.pem"),
        grpc_tls_key=str(pki / "server.key"),
        grpc_tls_client_ca=str(pki / "ca.pem"),
    ) as server:
        client = server.client()
        tokens = seed(client)
        fleet = AgentFleet(tmp_path / "agents")
        try:
            plain = fleet.start("n2", tokens["n2"], f"127.0.0.1:{port}")
            secure = fleet.start(
                "n1",
                tokens["n1"],
                f"127.0.0.1:{port}",
                tls_ca=pki / "ca.pem",
                tls_cert=pki / "client.pem",
                tls_key=pki / "client.key",
            )
            revision = status(client)["revision"]
            wait_for(lambda: all_at(client, revision, ("n1",)), what="n1 over mTLS")
            assert "snat" in secure.held()
            nodes = {n["name"]: n for n in status(client)["nodes"]}
            assert nodes["n2"]["connected"] is False  # plaintext never got through
            assert plain.held() == {}
        finally:
            fleet.close()
