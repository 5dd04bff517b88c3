"""A real API (PostgreSQL, gRPC) with real agents (recording drivers) and the CLI pointed at
it: what the convergence and node-status CLI tests share."""

from __future__ import annotations

from tests.api.support import LiveServer
from tests.distribution.agents import AgentFleet

from .conftest import Cli


class Cluster:
    def __init__(self, server: LiveServer, fleet: AgentFleet, cli: Cli) -> None:
        self.server, self.fleet, self.cli = server, fleet, cli
        self.http = server.client()
        self.api = f"127.0.0.1:{server.app.state.distribution.port}"
        self.tokens: dict[str, str] = {}
        self.http.put("/v1/namespaces/default", json={"spec": {}}).raise_for_status()

    def node(self, name: str, index: int) -> str:
        spec = {"spec": {"addresses": [f"192.0.2.{index}"], "podCIDRs": [f"10.1.{index}.0/24"]}}
        self.http.put(f"/v1/nodes/{name}", json=spec).raise_for_status()
        token = self.http.post("/v1/tokens", json={"role": "node", "node": name})
        self.tokens[name] = token.json()["token"]
        return name
