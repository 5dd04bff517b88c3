"""The CLI's explain verb against a live API."""

from __future__ import annotations

import json

import pytest

from switchyard_cli.main import main
from tests.api.support import ADMIN_TOKEN, LiveServer

from .test_rest import seed as seed_service


def cli(server: LiveServer, *args: str) -> list[str]:
    return ["--api", server.url, "--token", ADMIN_TOKEN, *args]


def test_explain_names_the_translation_and_the_deciding_rules(
    fresh_postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with LiveServer(fresh_postgres_url) as server:
        seed_service(server.client())
        assert main(cli(server, "explain", "x/a", "->", "x/web:80/TCP")) == 0
        out = capsys.readouterr().out
        assert "translation on n1: frontend/TCP/10.96.0.10/80" in out
        assert "backend 10.1.1.3:80  pod x/b on n1  chosen" in out
        assert out.strip().endswith("verdict: allowed")
        # a pod destination without a prefix (not a service), and JSON output
        assert main(cli(server, "explain", "x/a -> x/b:80/TCP", "-o", "json")) == 0
        assert json.loads(capsys.readouterr().out)["paths"][0]["destination"]["pod"] == "x/b"
        deny = {"spec": {"podSelector": {}, "policyTypes": ["Ingress"]}}
        server.client().put("/v1/namespaces/x/network-policies/deny", json=deny)
        assert main(cli(server, "explain", "x/a", "x/web:80")) == 3  # denied
        out = capsys.readouterr().out
        assert "default deny because policies x/deny select pod x/b" in out
        assert main(cli(server, "explain", "x/a", "->", "x/none:80")) == 1
        assert "no pod x/none" in capsys.readouterr().out
        assert main(cli(server, "explain", "x/a", "nowhere")) == 2
