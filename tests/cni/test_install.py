"""`switchyard-cni install` as the DaemonSet's init container runs it: the real console script,
reading its Node from a mock Kubernetes API (kmock's emulator, real Node JSON) over TLS with a
service-account token, writing into temporary bin and conf directories; then the installed
plugin, run by the system's Python without site-packages, attaches a pod through a real agent
and the real host-local with the node's pod CIDR."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kmock
import pytest
from aiohttp.test_utils import RawTestServer

from tests.kube import sample
from tests.kube.cluster import Cluster

from .support import PLUGIN, AgentProcess, Netns, allocated, cni

TOKEN = "install-cni-service-account-token"
SYSTEM_PYTHON = "/usr/bin/python3 -IS"  # isolated, no site-packages: the standard library only
DUAL = ("10.244.3.0/24", "fd00:10:244:3::/64")


def nodes() -> list[dict[str, Any]]:
    single = sample.node("node-1", "192.0.2.11", "10.244.1.0/24")
    dual = sample.node("node-3", "192.0.2.13", DUAL[0])
    dual["spec"]["podCIDRs"] = list(DUAL)
    fresh = sample.node("node-new", "192.0.2.14", "10.244.4.0/24")  # no CIDR allocated yet
    del fresh["spec"]["podCIDR"], fresh["spec"]["podCIDRs"]
    return [single, dual, fresh]


class HttpsServer(RawTestServer):
    """kmock's aiohttp server, serving TLS as an API server does."""

    tls: ssl.SSLContext

    async def start_server(self, loop: Any = None, **kwargs: Any) -> None:
        await super().start_server(loop=loop, ssl=self.tls, **kwargs)


@dataclass
class KubeApi:
    handler: Cluster
    env: dict[str, str]  # what the kubelet sets in a pod
    service_account: Path  # what it mounts there


@pytest.fixture
async def kube_api(tmp_path: Path) -> AsyncIterator[KubeApi]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed (it makes the mock API server's certificate)")
    account = tmp_path / "serviceaccount"
    account.mkdir()
    key = tmp_path / "apiserver.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "1", "-subj", "/CN=kube-apiserver",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key),
         "-out", str(account / "ca.crt")],
        check=True, capture_output=True,
    )  # fmt: skip
    (account / "token").write_text(TOKEN + "\n")
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(account / "ca.crt", key)
    handler = Cluster()
    for node in nodes():
        handler.load("Node", node)
    https = type("ClusterHttps", (HttpsServer,), {"tls": tls})
    async with handler, kmock.Server(handler, server_cls=https) as server:
        env = {"KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": str(server.port)}
        yield KubeApi(handler, env, account)


@dataclass
class Done:
    code: int
    stdout: str
    stderr: str


async def install(api: KubeApi | None, tmp: Path, *args: str) -> Done:
    """The console script, run beside the loop serving the mock API."""
    command = [
        str(PLUGIN), "install",
        f"--bin-dir={tmp / 'bin'}", f"--conf-dir={tmp / 'net.d'}",
        f"--interpreter={SYSTEM_PYTHON}", *args,
    ]  # fmt: skip
    if api is not None:
        command.append(f"--service-account-dir={api.service_account}")
    env = {"PATH": "/usr/bin:/bin", **(api.env if api else {})}
    done = await asyncio.to_thread(
        subprocess.run, command, env=env, capture_output=True, text=True, timeout=60
    )
    return Done(done.returncode, done.stdout, done.stderr)


def installed(tmp: Path) -> tuple[Path, Path]:
    return tmp / "bin" / "switchyard-cni", tmp / "net.d" / "10-switchyard.conflist"


def assert_valid_conflist(conflist: dict[str, Any]) -> dict[str, Any]:
    """What libcni's ConfListFromBytes and the CNI spec require; the plugin's entry."""
    assert conflist["cniVersion"] == "1.0.0"
    assert re.fullmatch(r"[a-zA-Z0-9][a-zA-Z0-9_.\-]*", conflist["name"])
    plugins = conflist["plugins"]
    assert isinstance(plugins, list) and plugins
    assert all(isinstance(p, dict) and p.get("type") for p in plugins)
    (entry,) = [p for p in plugins if p["type"] == "switchyard-cni"]
    assert entry["ipam"]["type"] == "host-local"
    entry = dict(entry)
    return entry


def version(plugin: Path) -> subprocess.CompletedProcess[bytes]:
    env = {"CNI_COMMAND": "VERSION", "PATH": "/usr/bin:/bin"}
    return subprocess.run([str(plugin)], env=env, input=b"{}", capture_output=True, check=False)


async def test_install_reads_the_node_and_writes_plugin_and_conflist_once(
    kube_api: KubeApi, tmp_path: Path
) -> None:
    done = await install(kube_api, tmp_path, "--from-node=node-3")
    assert done.code == 0, done.stderr
    plugin, conf = installed(tmp_path)
    assert f"installed {plugin}" in done.stdout and f"installed {conf}" in done.stdout
    # The request a real API server would authorize: GET of that Node with the pod's token.
    (request,) = [r for r in kube_api.handler if r.url.path == "/api/v1/nodes/node-3"]
    assert request.method == "GET"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"

    entry = assert_valid_conflist(json.loads(conf.read_text()))
    assert entry["ipam"]["ranges"] == [  # dual stack: one range set per family
        [{"subnet": "10.244.3.0/24", "gateway": "10.244.3.1"}],
        [{"subnet": "fd00:10:244:3::/64", "gateway": "fd00:10:244:3::1"}],
    ]
    assert entry["agentSocket"] == "/run/switchyard/cni.sock"
    assert oct(plugin.stat().st_mode & 0o777) == "0o755"
    assert oct(conf.stat().st_mode & 0o777) == "0o644"
    answer = version(plugin)  # the installed file itself, by its #! line
    assert answer.returncode == 0, answer.stderr
    assert "1.0.0" in json.loads(answer.stdout)["supportedVersions"]

    before = {p: (p.read_bytes(), p.stat().st_mtime_ns, p.stat().st_ino) for p in (plugin, conf)}
    again = await install(kube_api, tmp_path, "--from-node=node-3")
    assert again.code == 0, again.stderr
    assert f"unchanged {plugin}" in again.stdout and f"unchanged {conf}" in again.stdout
    after = {p: (p.read_bytes(), p.stat().st_mtime_ns, p.stat().st_ino) for p in (plugin, conf)}
    assert after == before
    assert sorted(p.name for p in (tmp_path / "net.d").iterdir()) == [conf.name]  # no temp left


async def test_the_documented_conflist_is_what_install_writes_for_its_cidr(tmp_path: Path) -> None:
    done = await install(None, tmp_path, "--pod-cidr=10.1.1.0/24")
    assert done.code == 0, done.stderr
    documented = Path(__file__).resolve().parents[2] / "deploy/cni/10-switchyard.conflist"
    assert installed(tmp_path)[1].read_bytes() == documented.read_bytes()


async def test_a_changed_cidr_rewrites_only_the_conflist(tmp_path: Path) -> None:
    assert (await install(None, tmp_path, "--pod-cidr=10.9.0.0/24")).code == 0
    plugin, conf = installed(tmp_path)
    plugin_mtime = plugin.stat().st_mtime_ns
    done = await install(None, tmp_path, "--pod-cidr=10.9.1.0/24")
    assert f"unchanged {plugin}" in done.stdout and f"installed {conf}" in done.stdout
    assert plugin.stat().st_mtime_ns == plugin_mtime
    ranges = json.loads(conf.read_text())["plugins"][0]["ipam"]["ranges"]
    assert ranges == [[{"subnet": "10.9.1.0/24", "gateway": "10.9.1.1"}]]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from-node=node-new"], "Node node-new has no spec.podCIDRs yet"),
        (["--from-node=node-gone"], "reading Node node-gone: HTTP 404"),
        (["--pod-cidr=10.1.1.7/24"], "'10.1.1.7/24' is not a CIDR"),
        (["--pod-cidr=10.1.0.0/24,10.2.0.0/24"], "two pod CIDRs of the same family"),
        (["--pod-cidr=10.1.1.0/31"], "10.1.1.0/31 is too small for pods"),
        ([], "one of the arguments --pod-cidr --from-node is required"),
    ],
)
async def test_no_usable_cidr_exits_1_with_one_line_and_writes_nothing(
    kube_api: KubeApi, tmp_path: Path, args: list[str], message: str
) -> None:
    done = await install(kube_api, tmp_path, *args)
    assert done.code == 1
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and message in done.stderr, done.stderr
    assert not (tmp_path / "bin").exists() and not (tmp_path / "net.d").exists()


async def test_from_node_outside_a_pod_or_with_a_wrong_ca_fails_cleanly(
    kube_api: KubeApi, tmp_path: Path
) -> None:
    outside = await install(None, tmp_path, "--from-node=node-1")
    assert outside.code == 1 and "KUBERNETES_SERVICE_HOST is not set" in outside.stderr
    other = tmp_path / "other-account"
    other.mkdir()
    (other / "token").write_text(TOKEN)
    shutil.copy("/etc/ssl/certs/ca-certificates.crt", other / "ca.crt")  # not the cluster's CA
    wrong = KubeApi(kube_api.handler, kube_api.env, other)
    done = await install(wrong, tmp_path, "--from-node=node-1")
    assert done.code == 1 and "CERTIFICATE_VERIFY_FAILED" in done.stderr, done.stderr
    assert done.stderr.count("\n") == 1
    assert not (tmp_path / "bin").exists() and not (tmp_path / "net.d").exists()


async def test_the_installed_plugin_attaches_a_pod_from_the_node_cidr(
    kube_api: KubeApi, agent: AgentProcess, netns: Netns, tmp_path: Path
) -> None:
    done = await install(kube_api, tmp_path, "--from-node=node-1")
    assert done.code == 0, done.stderr
    plugin, conf = installed(tmp_path)
    conflist = json.loads(conf.read_text())
    # As a runtime passes the list's entry: name and cniVersion copied in. Only the host's
    # paths are moved into the test's directory.
    config = {**assert_valid_conflist(conflist), "name": conflist["name"]}
    config["cniVersion"] = conflist["cniVersion"]
    config["agentSocket"] = str(agent.cni_socket)
    config["ipam"] = {**config["ipam"], "dataDir": str(tmp_path / "ipam")}
    container = "feedfacefeedfacefeedfacefeedface"

    added = await asyncio.to_thread(cni, "ADD", config, container, netns, plugin=plugin)
    assert added.code == 0, (added.output, added.stderr)
    (ip,) = added.output["ips"]
    assert ip == {"address": "10.244.1.2/24", "gateway": "10.244.1.1", "interface": 0}
    assert netns.addresses("eth0") == ["10.244.1.2/24"]
    assert netns.default_route() == "10.244.1.1"
    deleted = await asyncio.to_thread(cni, "DEL", config, container, netns, plugin=plugin)
    assert deleted.code == 0, deleted.output
    assert allocated(tmp_path) == [] and netns.ip("link", "show", "eth0") == ""


async def test_a_template_sets_the_other_fields_and_a_bad_one_is_refused(tmp_path: Path) -> None:
    documented = Path(__file__).resolve().parents[2] / "deploy/cni/10-switchyard.conflist"
    template = json.loads(documented.read_text())
    template["plugins"][0].update(mode="memif", mtu=9000)
    template["plugins"].append({"type": "portmap", "capabilities": {"portMappings": True}})
    (tmp_path / "template.conflist").write_text(json.dumps(template))
    done = await install(
        None, tmp_path, "--pod-cidr=10.7.0.0/24", "--template", str(tmp_path / "template.conflist")
    )
    assert done.code == 0, done.stderr
    written = json.loads(installed(tmp_path)[1].read_text())
    entry = assert_valid_conflist(written)
    assert (entry["mode"], entry["mtu"]) == ("memif", 9000)
    assert entry["ipam"]["ranges"] == [[{"subnet": "10.7.0.0/24", "gateway": "10.7.0.1"}]]
    assert written["plugins"][1] == template["plugins"][1]  # chained plugins are kept

    del template["plugins"][0]["ipam"]
    (tmp_path / "bad.conflist").write_text(json.dumps(template))
    fresh = tmp_path / "fresh"
    refused = await install(
        None, fresh, "--pod-cidr=10.7.0.0/24", "--template", str(tmp_path / "bad.conflist")
    )
    assert refused.code == 1 and refused.stderr.count("\n") == 1
    assert "needs ipam of type host-local" in refused.stderr
    assert not fresh.exists()
