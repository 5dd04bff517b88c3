"""The API learns each pod's interface from its node's agent: a real API on PostgreSQL, a real
agent serving CNI, the emulated VPP, real netns and host-local. The report arrives before the
pod exists; the Pod then shows it, and the compiler puts the pod's cnat feature, SNAT tables
and ACLs on the tap."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.api.support import LiveServer
from tests.vppemu.harness import Emulator
from tests.waiting import wait_for

from .conftest import make_agent
from .support import Netns, allocated, cni, network_config

NS = "/v1/namespaces/default"
CONTAINER = "c0ffeec0ffeec0ffeec0ffeec0ffee00"


def seed(client: httpx.Client) -> str:
    client.put(NS, json={"spec": {}}).raise_for_status()
    for name, index in (("n1", 1), ("n2", 2)):
        node = {"spec": {"addresses": [f"192.0.2.{index}"], "podCIDRs": [f"10.1.{index}.0/24"]}}
        client.put(f"/v1/nodes/{name}", json=node).raise_for_status()
    token: str = client.post("/v1/tokens", json={"role": "node", "node": "n1"}).json()["token"]
    return token


def attachment(client: httpx.Client, pod: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = client.get(f"{NS}/pods/{pod}").json()["status"].get("attachment")
    return found


def tap_index(emulator: Emulator) -> int | None:
    names = {i["name"]: i["sw_if_index"] for i in emulator.state()["interfaces"]}
    return names.get("tap1")


def acl_bound(emulator: Emulator, index: int) -> bool:
    bindings = emulator.state()["acl"]["interfaces"]
    return any(b["sw_if_index"] == index and (b["input"] or b["output"]) for b in bindings)


def test_the_pod_shows_its_interface_and_gets_cnat_snat_and_acls_on_it(
    fresh_postgres_url: str, emulator: Emulator, netns: Netns, tmp_path: Path
) -> None:
    with LiveServer(fresh_postgres_url) as server:
        client = server.client()
        token = seed(client)
        api = f"127.0.0.1:{server.app.state.distribution.port}"
        agent = make_agent(tmp_path, emulator, api, token).start()
        try:
            config = network_config(tmp_path, agent.cni_socket)
            # Attached before the API knows the pod (the runtime is faster than the adapter).
            added = cni("ADD", config, CONTAINER, netns, pod=("default", "web-1"))
            assert added.code == 0, added.output
            address = added.output["ips"][0]["address"].split("/")[0]
            pod = {"metadata": {"labels": {"app": "web"}}, "spec": {"nodeName": "n1"}}
            client.put(f"{NS}/pods/web-1", json=pod).raise_for_status()
            shown = wait_for(lambda: attachment(client, "web-1"), timeout=20, what="attachment")
            assert shown == {
                "node": "n1",
                "containerID": CONTAINER,
                "interface": "tap1",
                "ips": [address],
                "mode": "tap",
            }
            index = tap_index(emulator)
            assert index is not None
            cnat = lambda: emulator.state()["cnat"]  # noqa: E731
            wait_for(lambda: index in cnat()["feature_interfaces"], timeout=20, what="cnat on")
            tables = cnat()["snat_if_tables"]  # INCLUDE_V4, INCLUDE_V6, POD
            assert all(index in tables[table] for table in (0, 1, 2))

            policy = {
                "spec": {
                    "podSelector": {"matchLabels": {"app": "web"}},
                    "policyTypes": ["Ingress"],
                    "ingress": [{"ports": [{"port": 80}]}],
                }
            }
            client.put(f"{NS}/network-policies/web", json=policy).raise_for_status()
            wait_for(lambda: acl_bound(emulator, index), timeout=20, what="ACLs on the tap")

            # Another node's pod never takes this node's report.
            other = {"spec": {"nodeName": "n2"}}
            client.put(f"{NS}/pods/web-2", json=other).raise_for_status()
            assert (
                cni("ADD", config, "other-container", netns.more(), pod=("default", "web-2")).code
                == 0
            )  # type: ignore[attr-defined]
            wait_for(lambda: len(emulator.state()["tap"]) == 2, what="second tap")
            assert attachment(client, "web-2") is None

            assert cni("DEL", config, CONTAINER, netns).code == 0
            wait_for(lambda: attachment(client, "web-1") is None, timeout=20, what="detached")
            assert tap_index(emulator) is None
            assert index not in cnat()["feature_interfaces"]
            assert not acl_bound(emulator, index)
            assert address not in allocated(tmp_path)
        finally:
            agent.stop()
