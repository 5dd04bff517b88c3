"""apply --dry-run=server|client and diff against a live API: the per-node plan of a dryRun=All
write, nothing stored, kubectl diff's exit codes, and a real apply that does what was planned."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.api.support import LiveServer
from tests.explain.test_dry_run import NODES, POLICY, diff, revision, seed
from tests.waiting import wait_for

from .conftest import Cli, assert_one_line_error
from .test_apply_get import MANIFEST

POLICY_PATH = "/v1/namespaces/x/network-policies/web-in"
MARKS = {"+": "added", "~": "changed", "-": "removed"}


def write_policy(tmp_path: Path, policy: dict[str, Any] = POLICY) -> Path:
    path = tmp_path / "policy.yaml"
    head = {"apiVersion": "switchyard.io/v1", "kind": "NetworkPolicy"}
    path.write_text(yaml.safe_dump(head | policy))
    return path


def plan_in(out: str) -> dict[str, dict[str, list[str]]]:
    """The CLI's plan lines ("  node n1: ...", "    + key") as {node: {added/changed/removed}}."""
    plan: dict[str, dict[str, list[str]]] = {}
    node = None
    for line in out.splitlines():
        if line.startswith("  node "):
            node = line.split()[1].rstrip(":")
            plan[node] = {what: [] for what in MARKS.values()}
        elif node is not None and line.startswith("    ") and line.split()[0] in MARKS:
            mark, key = line.split()
            plan[node][MARKS[mark]].append(key)
    return plan


def node_configs(client: httpx.Client, at: int) -> dict[str, dict[str, Any]]:
    """Each node's compiled configuration, once the compiler has reached revision `at`."""

    def compiled() -> dict[str, dict[str, Any]] | None:
        found = {node: client.get(f"/v1/nodes/{node}/config").json() for node in NODES}
        if any(config["revision"] < at for config in found.values()):
            return None
        return {node: config["objects"] for node, config in found.items()}

    configs: dict[str, dict[str, Any]] = wait_for(compiled, timeout=20, what="compiled")
    return configs


def test_apply_dry_run_and_diff_show_the_per_node_plan(
    server: LiveServer, cli: Cli, tmp_path: Path
) -> None:
    client = server.client()
    seed(client)
    manifest = str(write_policy(tmp_path))
    start = revision(client)
    before = node_configs(client, start)

    out = cli.ok("-n", "x", "apply", "--dry-run=server", "-f", manifest)
    assert out.splitlines()[0] == "networkpolicy/web-in created (server dry run)"
    planned = plan_in(out)
    assert sorted(planned) == ["n1", "n2"]  # the nodes of the pods it selects
    assert "acl-binding/tap-web-1" in planned["n1"]["added"]
    assert "acl-binding/tap-web-2" in planned["n2"]["added"]
    assert "acl-binding/tap-web-2" not in planned["n1"]["added"]
    added = len(planned["n1"]["added"])
    assert f"  node n1: {added} added, 0 changed, 0 removed" in out
    assert "  plan: 2 nodes, " in out
    # nothing stored
    assert revision(client) == start
    assert client.get(POLICY_PATH).status_code == 404
    verbose = cli.ok("-n", "x", "apply", "--dry-run=server", "-v", "-f", manifest)
    assert '"after": {' in verbose and plan_in(verbose) == planned

    shown = cli("-n", "x", "diff", "-f", manifest)
    assert shown.returncode == 1, shown.stderr  # differences
    assert "--- /dev/null" in shown.stdout
    assert "+++ networkpolicy/web-in (manifest)" in shown.stdout
    assert "+    matchLabels:" in shown.stdout
    diff_part, plan_part = shown.stdout.split("per-node plan of networkpolicy/web-in:\n")
    assert "node n1" not in diff_part and plan_in(plan_part) == planned
    assert revision(client) == start
    assert client.get(POLICY_PATH).status_code == 404

    # the real apply does on every node what the plan said
    assert cli.ok("-n", "x", "apply", "-f", manifest) == "networkpolicy/web-in created\n"
    after = node_configs(client, revision(client))
    changes = {node: diff(before[node], after[node]) for node in NODES}
    assert changes == {node: {k: sorted(v) for k, v in planned[node].items()} for node in NODES}

    done = cli("-n", "x", "diff", "-f", manifest)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")  # nothing would change
    again = cli.ok("-n", "x", "apply", "--dry-run=server", "-f", manifest).splitlines()
    assert again[0] == "networkpolicy/web-in unchanged (server dry run)"
    assert again[1].startswith("  plan: 0 nodes, 0 added, 0 changed, 0 removed")


def test_a_removed_field_shows_in_the_diff_and_changes_the_plan(
    server: LiveServer, cli: Cli, tmp_path: Path
) -> None:
    client = server.client()
    seed(client)
    client.put(POLICY_PATH, json=POLICY).raise_for_status()
    # without its ingress rule the policy denies all ingress to the web pods
    bare = {"metadata": POLICY["metadata"], "spec": {"podSelector": POLICY["spec"]["podSelector"]}}
    manifest = str(write_policy(tmp_path, bare))
    start = revision(client)
    before = node_configs(client, start)

    shown = cli("-n", "x", "diff", "-f", manifest)
    assert shown.returncode == 1, shown.stderr
    assert "--- networkpolicy/web-in (live)" in shown.stdout
    assert "-  ingress:" in shown.stdout  # the server's dry run, not a guess from the manifest
    planned = plan_in(shown.stdout)
    assert planned and all(entry["changed"] for entry in planned.values())

    out = cli.ok("-n", "x", "apply", "--dry-run=server", "-f", manifest)
    assert out.splitlines()[0] == "networkpolicy/web-in configured (server dry run)"
    assert plan_in(out) == planned and "    ~ " in out
    assert revision(client) == start
    assert client.get(POLICY_PATH).json()["spec"]["ingress"]  # still stored as it was

    cli.ok("-n", "x", "apply", "-f", manifest)
    after = node_configs(client, revision(client))
    for node in NODES:
        assert diff(before[node], after[node]) == {
            what: sorted(planned.get(node, {}).get(what, [])) for what in MARKS.values()
        }


def assert_diff_error(done: subprocess.CompletedProcess[str], *fragments: str) -> None:
    """kubectl diff: an error exits 2 (1 means there are differences)."""
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("switchyard: error: ") and done.stderr.count("\n") == 1
    for fragment in fragments:
        assert fragment in done.stderr, done.stderr


def test_dry_run_errors_client_dry_run_and_completion(
    server: LiveServer, cli: Cli, tmp_path: Path
) -> None:
    client = server.client()
    seed(client)
    start = revision(client)
    bad = {"metadata": {"name": "bad"}, "spec": {"podSelector": {}, "policyTypes": ["Up"]}}
    bad_manifest = str(write_policy(tmp_path, bad))
    done = cli("-n", "x", "apply", "--dry-run=server", "-f", bad_manifest)
    assert_one_line_error(done, "networkpolicy/bad", "(422)", "spec.policyTypes")
    assert_diff_error(cli("-n", "x", "diff", "-f", bad_manifest), "networkpolicy/bad", "(422)")
    assert_diff_error(cli("diff", "-f", str(tmp_path / "nope.yaml")), "nope.yaml")
    assert_diff_error(cli("diff"), "-f")
    assert_diff_error(cli("diff", "-f", bad_manifest, SWITCHYARD_API="http://127.0.0.1:9"))
    assert revision(client) == start

    manifest = str(write_policy(tmp_path))
    assert_one_line_error(cli("apply", "--dry-run=bogus", "-f", manifest), "bogus")
    assert_one_line_error(cli("apply", "--dry-run", "-f", manifest), "--dry-run")
    assert_one_line_error(cli("apply", "-v", "-f", manifest), "--verbose", "--dry-run=server")
    done = cli("apply", "--dry-run=server", "--wait", "-f", manifest)
    assert_one_line_error(done, "--wait", "dry run")
    # client: compared with the live object, nothing sent
    out = cli.ok("-n", "x", "apply", "--dry-run=client", "-f", manifest)
    assert out == "networkpolicy/web-in created (dry run)\n"
    assert client.get(POLICY_PATH).status_code == 404
    cli.ok("-n", "x", "apply", "--dry-run=none", "-f", manifest)
    assert client.get(POLICY_PATH).status_code == 200
    out = cli.ok("-n", "x", "apply", "--dry-run=client", "-f", manifest)
    assert out == "networkpolicy/web-in unchanged (dry run)\n"

    # a dry run checks each object alone: what needs a namespace created first is refused
    done = cli("apply", "--dry-run=server", "-f", "-", stdin=MANIFEST)
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert lines[0] == "namespace/team-a created (server dry run)"
    assert lines[1].startswith("  plan: 0 nodes, 0 added, 0 changed, 0 removed") and len(lines) == 2
    first = done.stderr.splitlines()[0]
    assert first.startswith("switchyard: error: service/web: Invalid (422): metadata.namespace")
    assert first.endswith(
        "(namespace/team-a comes first in these manifests; a dry run checks each object alone)"
    )
    assert client.get("/v1/namespaces/team-a").status_code == 404

    words = {"COMP_WORDS": "switchyard apply --dry-run ", "COMP_CWORD": "3"}
    completed = cli(_SWITCHYARD_COMPLETE="bash_complete", **words)
    assert completed.stdout.splitlines() == ["plain,none", "plain,client", "plain,server"]


def test_a_bgp_password_is_never_shown_and_is_no_difference(
    server: LiveServer, cli: Cli, tmp_path: Path
) -> None:
    client = server.client()
    seed(client)
    bgp = {
        "addresses": ["192.0.2.1"],
        "uplinkInterface": "uplink0",
        "bgp": {"asn": 65100, "routerId": "192.0.2.1"},
    }
    client.put("/v1/nodes/n1", json={"spec": bgp}).raise_for_status()
    secret = "md5-secret-7f3a"
    peer = {
        "kind": "BgpPeer",
        "metadata": {"name": "tor"},
        "spec": {"peerIP": "192.0.2.254", "asNumber": 65000, "password": secret},
    }
    manifest = tmp_path / "peer.yaml"
    manifest.write_text(yaml.safe_dump(peer))
    for args in (("diff",), ("apply", "--dry-run=server", "-v"), ("apply",), ("diff",)):
        done = cli(*args, "-f", str(manifest))
        assert secret not in done.stdout + done.stderr, args
        if args[-1] == "-v":  # the planned peer on n1 carries the password, as "(set)"
            assert "  node n1: " in done.stdout and '"(set)"' in done.stdout, done.stdout
    assert done.returncode == 0, done.stdout  # the write-only field is no difference
