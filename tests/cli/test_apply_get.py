"""apply -f FILE|DIR|- (YAML/JSON, multi-document, EndpointSlices; unchanged reported), get
with tables and -o json|yaml|wide|name, -l, -n anywhere, -A, describe, diff, delete."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from .conftest import Cli, assert_one_line_error

MANIFEST = """\
apiVersion: switchyard.io/v1
kind: Namespace
metadata: {name: team-a}
spec: {}
---
apiVersion: switchyard.io/v1
kind: Service
metadata:
  name: web
  namespace: team-a
  labels: {app: web}
spec:
  type: NodePort
  clusterIPs: [10.96.0.10]
  ports: [{name: http, port: 80}]
---
kind: EndpointSlice
metadata: {name: web, namespace: team-a}
addressType: IPv4
endpoints:
  - addresses: [10.1.1.5]
ports: [{name: http, port: 8080}]
---
kind: Service
metadata: {name: db, namespace: team-a, labels: {app: db}}
spec:
  clusterIPs: [10.96.0.11]
  ports: [{port: 5432}]
"""


def write(tmp_path: Path, text: str = MANIFEST, name: str = "app.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_apply_creates_then_reports_unchanged_then_configured(cli: Cli, tmp_path: Path) -> None:
    path = write(tmp_path)
    assert cli.ok("apply", "-f", str(path)).splitlines() == [
        "namespace/team-a created",
        "service/web created",
        "endpointslice/web created",
        "service/db created",
    ]
    assert cli.ok("apply", "-f", str(path)).splitlines() == [
        "namespace/team-a unchanged",
        "service/web unchanged",
        "endpointslice/web unchanged",
        "service/db unchanged",
    ]
    write(tmp_path, MANIFEST.replace("port: 5432", "port: 5433"))
    assert "service/db configured" in cli.ok("apply", "-f", str(path)).splitlines()


def test_apply_takes_json_from_stdin_and_a_directory(cli: Cli, tmp_path: Path) -> None:
    namespace = {"kind": "Namespace", "metadata": {"name": "team-a"}, "spec": {}}
    assert cli.ok("apply", "-f", "-", stdin=json.dumps(namespace)) == "namespace/team-a created\n"
    folder = tmp_path / "manifests"
    folder.mkdir()
    write(folder, MANIFEST.split("---\n", 1)[1], "1-services.yml")
    (folder / "README.txt").write_text("not a manifest")
    out = cli.ok("apply", "-f", str(folder))
    assert out.splitlines()[0] == "service/web created"


def test_get_prints_a_table_and_each_output_format(cli: Cli, tmp_path: Path) -> None:
    cli.ok("apply", "-f", str(write(tmp_path)))
    table = cli.ok("get", "services", "-n", "team-a").splitlines()
    assert table[0].split() == ["NAME", "TYPE", "CLUSTER-IPS", "PORTS", "CONVERGED", "AGE"]
    assert table[-2].split()[:4] == ["db", "ClusterIP", "10.96.0.11", "5432/TCP"]
    assert table[-1].split()[:3] == ["web", "NodePort", "10.96.0.10"]
    assert table[-1].split()[3].startswith("80:3")  # the allocated node port
    wide = cli.ok("-n", "team-a", "get", "svc", "web", "-o", "wide")
    assert "EXTERNAL-IPS" in wide and "app=web" in wide
    one = json.loads(cli.ok("get", "service/web", "-o", "json", "--namespace", "team-a"))
    assert one["spec"]["clusterIPs"] == ["10.96.0.10"]
    listed = yaml.safe_load(cli.ok("-n", "team-a", "get", "services", "-o", "yaml"))
    assert [i["metadata"]["name"] for i in listed["items"]] == ["db", "web"]
    selected = cli.ok("get", "services", "-l", "app=db", "-o", "name", "-n", "team-a")
    assert selected == "service/db\n"
    everywhere = cli.ok("get", "services", "-A").splitlines()
    assert everywhere[0].split()[:2] == ["NAMESPACE", "NAME"]
    assert [line.split()[:2] for line in everywhere[-2:]] == [["team-a", "db"], ["team-a", "web"]]
    assert cli.ok("get", "services") == ""  # the default namespace holds none
    assert "No resources found." in cli("get", "services").stderr


def test_describe_shows_spec_convergence_and_the_objects_changes(cli: Cli, tmp_path: Path) -> None:
    path = write(tmp_path)
    cli.ok("apply", "-f", str(path))
    cli.ok("apply", "-f", str(write(tmp_path, MANIFEST.replace("port: 80}", "port: 81}"))))
    text = cli.ok("describe", "service", "web", "-n", "team-a")
    assert "Name:             web" in text and "Namespace:        team-a" in text
    assert "Labels:           app=web" in text
    assert "clusterIPs:" in text and "- 10.96.0.10" in text
    assert "Convergence:      0/0 nodes applied resourceVersion" in text
    assert "Failures:         <none>" in text and "Compile errors:   <none>" in text
    events = text.split("Events:", 1)[1].split()
    assert events[:2] == ["REVISION", "TYPE"]
    assert events[3] == "ADDED" and "MODIFIED" in events[4:]


def test_diff_shows_what_apply_would_change(cli: Cli, tmp_path: Path) -> None:
    path = write(tmp_path)
    new = cli("diff", "-f", str(path))
    assert new.returncode == 1, new.stderr  # kubectl diff: 1 when there are differences
    assert "--- /dev/null" in new.stdout and "+++ service/web (manifest)" in new.stdout
    # team-a is not stored yet, so the server cannot dry-run what it holds: said, not an error
    assert "per-node plan of service/web: not known before namespace/team-a exists" in new.stdout
    assert new.stderr == ""
    cli.ok("apply", "-f", str(path))
    assert cli.ok("diff", "-f", str(path)) == ""  # defaults and node ports are not changes
    write(tmp_path, MANIFEST.replace("port: 5432}", "port: 5433}"))
    changed = cli("diff", "-f", str(path))
    assert changed.returncode == 1, changed.stderr
    assert "--- service/db (live)" in changed.stdout
    assert "-  - port: 5432" in changed.stdout and "+  - port: 5433" in changed.stdout
    assert "service/web" not in changed.stdout
    assert "5432/TCP" in cli.ok("get", "svc", "db", "-n", "team-a")  # diff wrote nothing


def test_delete_by_name_and_by_file(cli: Cli, tmp_path: Path) -> None:
    path = write(tmp_path)
    cli.ok("apply", "-f", str(path))
    assert cli.ok("delete", "service", "db", "-n", "team-a") == "service/db deleted\n"
    assert_one_line_error(cli("get", "svc", "db", "-n", "team-a"), "Not Found (404)")
    cli.ok("apply", "-f", str(path))
    assert cli.ok("delete", "-f", str(path)).splitlines() == [
        "service/db deleted",
        "endpointslice/web deleted",
        "service/web deleted",
        "namespace/team-a deleted",
    ]
    assert "team-a" not in cli.ok("get", "namespaces")
