"""A BGP password never leaves the API over REST: not in any response, error or log line
(issue 10, defect 1). Before the fix GET /v1/nodes/{name}/config returned the compiled BgpPeer
with the password in clear text, and a NACK quoting it was shown as is in status."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from switchyard_agent.drivers.recording import recording_driver
from tests.distribution.agents import AgentFleet
from tests.waiting import wait_for

from .support import KINDS, LiveServer

PASSWORD = "Pa55-w0rd-nobody-may-read"
PEER_KEY = "bgp-peer/198.51.100.1"
PEER = {
    "spec": {
        "peerIP": "198.51.100.1",
        "asNumber": 65000,
        "password": PASSWORD,
    }
}


def _seed(client: httpx.Client) -> str:
    client.put("/v1/namespaces/team-a", json={"spec": {}}).raise_for_status()
    for case in KINDS:
        body = case.body()
        if case.kind == "BgpPeer":
            body = {**body, **PEER}
        client.put(case.item(), json=body).raise_for_status()
    created = client.post("/v1/tokens", json={"role": "node", "node": "node1"})
    created.raise_for_status()
    token: str = created.json()["token"]
    return token


def _every_get_path(client: httpx.Client) -> list[str]:
    """Every GET operation of the published contract, with this cluster's names filled in."""
    names = {"/v1/nodes/{name}": "node1", "/v1/namespaces/{namespace}/services/{name}": "web"}
    for case in KINDS:
        names.setdefault(case.collection.replace("team-a", "{namespace}") + "/{name}", case.name)
    paths = []
    for template, methods in client.get("/openapi.json").json()["paths"].items():
        if "get" not in methods or template == "/v1/events":
            continue
        path = template
        for prefix, name in names.items():
            if template.startswith(prefix):
                path = template.replace("{name}", name)
        paths.append(path.replace("{namespace}", "team-a"))
    assert "/v1/nodes/node1/config" in paths and "/v1/bgp-peers/router" in paths
    return paths


def _events(server: LiveServer, until_revision: int) -> str:
    seen = ""
    with server.client() as client, client.stream("GET", "/v1/events?since=0") as stream:
        for line in stream.iter_lines():
            seen += line + "\n"
            if line.startswith("id: ") and int(line[4:]) >= until_revision:
                break
    return seen


def test_no_rest_response_or_log_line_carries_a_bgp_password(
    fresh_postgres_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fleet = AgentFleet(tmp_path / "agents")
    try:
        with LiveServer(fresh_postgres_url) as server:
            client = server.client()
            client.timeout = httpx.Timeout(60)  # the suite runs on a loaded 2-core machine
            token = _seed(client)
            # A dataplane that quotes the configuration it refused, password included.
            driver = recording_driver()
            driver.gobgp.fail(key=PEER_KEY, message=f"GoBGP refused peer (auth {PASSWORD})")
            api = f"127.0.0.1:{server.app.state.distribution.port}"
            fleet.start("node1", token, api, driver=driver)

            def nacked() -> Any:
                node = client.get("/v1/nodes/node1").json()["status"]
                return node["errors"] and node

            status = wait_for(nacked, timeout=20, what="the peer's NACK over REST")
            assert status["errors"][0]["key"] == PEER_KEY
            assert "<redacted>" in status["errors"][0]["message"]  # the rest of it is kept
            config = client.get("/v1/nodes/node1/config").json()
            assert config["objects"][PEER_KEY]["password"] == "<redacted>"

            bodies: dict[str, bytes] = {}
            for path in _every_get_path(client):
                response = client.get(path)
                assert response.status_code < 500, (path, response.text)
                bodies[f"GET {path}"] = response.content + str(response.headers).encode()
            # Writes and their errors echo nothing secret either.
            peer = "/v1/bgp-peers/router"
            for method, kwargs in [
                ("PUT", {"json": PEER}),
                (
                    "PATCH",
                    {
                        "json": {"spec": {"password": PASSWORD + "x"}},
                        "headers": {"Content-Type": "application/merge-patch+json"},
                    },
                ),
                ("PUT", {"json": {"spec": {**PEER["spec"], "bogus": PASSWORD}}}),
                ("PUT", {"json": {"spec": {**PEER["spec"], "password": PASSWORD * 4}}}),
                ("PUT", {"json": PEER, "headers": {"If-Match": '"1"'}}),
                ("POST", {"json": {"metadata": {"name": "router"}, **PEER}}),
            ]:
                path = peer if method != "POST" else "/v1/bgp-peers"
                response = client.request(method, path, **kwargs)
                assert response.status_code < 500, (method, response.text)
                bodies[f"{method} {path} -> {response.status_code}"] = response.content
            revision = int(client.get("/readyz").json()["revision"])
            bodies["events"] = _events(server, revision).encode()
            time.sleep(1.5)  # one more status flush, so that its log lines are in too
        leaks = [where for where, body in bodies.items() if PASSWORD.encode() in body]
        assert not leaks, f"the password is in: {leaks}"
        api_logs = [
            r.getMessage() + (r.exc_text or "")
            for r in caplog.records
            if not r.name.startswith("switchyard_agent")
        ]
        assert not [line for line in api_logs if PASSWORD in line]
        assert len(bodies) > 20  # the crawl reached every view
    finally:
        fleet.close()
