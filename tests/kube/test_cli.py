"""`switchyard-kube --once [--dry-run]` as a process against the mock cluster."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import httpx

from tests.api.support import ADMIN_TOKEN, LiveServer
from tests.kube.cluster import write_kubeconfig
from tests.kube.conftest import MockCluster
from tests.kube.views import names, revision


def command() -> list[str]:
    script = Path(sys.executable).parent / "switchyard-kube"
    return (
        [str(script)] if script.exists() else [shutil.which("switchyard-kube") or "switchyard-kube"]
    )


async def run(cluster: MockCluster, url: str, *flags: str) -> tuple[int, str, str]:
    env = {
        **os.environ,
        "SWITCHYARD_TOKEN": ADMIN_TOKEN,
        "SWITCHYARD_URL": url,
        "KUBECONFIG": str(cluster.kubeconfig),
    }
    process = await asyncio.create_subprocess_exec(
        *command(),
        "--bgp-asn",
        "65010",
        *flags,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def summary(out: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return document


async def test_dry_run_then_once_then_once_again(
    cluster: MockCluster, api: LiveServer, switchyard: httpx.Client
) -> None:
    start = revision(switchyard)
    code, out, err = await run(cluster, api.url, "--once", "--dry-run")
    assert code == 0, err
    lines = out.splitlines()
    assert "create Namespace shop" in lines
    assert "create Node node-1" in lines
    assert "create Service shop/web" in lines
    assert "create EndpointSlice shop/web" in lines
    assert "create Pod shop/web-1" in lines
    assert "create NetworkPolicy data/default-deny" in lines
    # a namespace before what it holds
    assert lines.index("create Namespace shop") < lines.index("create Pod shop/web-1")
    assert summary(out)["plan"] == {
        "create": 25,
        "update": 0,
        "delete": 0,
        "status": 9,
        "notOwned": 0,
        "kept": 0,
    }
    assert revision(switchyard) == start  # a dry run changes nothing
    assert names(switchyard, "Namespace") == set()
    assert ADMIN_TOKEN not in out + err  # the token never reaches the output

    code, out, err = await run(cluster, api.url, "--once")
    assert code == 0, err
    assert summary(out)["writes"] == 25 + 9  # and the 9 pods' Ready condition
    assert "created Pod shop/web-1" in out.splitlines()
    assert "set ready of Pod shop/web-1" in out.splitlines()
    assert len(names(switchyard, "Pod")) == 9
    applied = revision(switchyard)

    code, out, err = await run(cluster, api.url, "--once")
    assert code == 0, err
    assert summary(out)["writes"] == 0
    assert summary(out)["plan"]["update"] == 0
    assert revision(switchyard) == applied  # the second --once wrote nothing

    # A change in the cluster: the next dry run plans exactly it.
    await cluster.client.delete("Pod", "data", "db-1")
    code, out, err = await run(cluster, api.url, "--dry-run")
    assert code == 0, err
    assert out.splitlines()[:-1] == ["delete Pod data/db-1"]


async def test_unreachable_switchyard_exits_with_an_error(cluster: MockCluster) -> None:
    code, _out, err = await run(cluster, "http://127.0.0.1:9", "--once")  # nothing listens
    assert code == 2
    assert "switchyard-kube:" in err and ADMIN_TOKEN not in err


async def test_unreachable_kubernetes_exits_with_an_error(
    cluster: MockCluster, api: LiveServer, switchyard: httpx.Client, tmp_path: Path
) -> None:
    broken = MockCluster(
        cluster.handler,
        "http://127.0.0.1:9",
        write_kubeconfig(tmp_path / "broken", "http://127.0.0.1:9"),
        cluster.client,
    )
    code, _out, err = await run(broken, api.url, "--once")
    assert code == 2
    assert "Kubernetes API" in err
    assert names(switchyard, "Namespace") == set()  # nothing listed: nothing planned
