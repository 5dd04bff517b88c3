"""deploy/kubernetes validates offline against the Kubernetes JSON schemas (strict: unknown
fields are errors) with kubernetes-validate, and holds what running Switchyard needs."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "kubernetes"
KUBERNETES = "1.37.0"


def documents() -> dict[tuple[str, str], dict[str, Any]]:
    found = {}
    for path in sorted(DEPLOY.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for document in yaml.safe_load_all(path.read_text()):
            found[(document["kind"], document["metadata"]["name"])] = document
    return found


def pod_spec(kind: str, name: str) -> dict[str, Any]:
    spec: dict[str, Any] = documents()[(kind, name)]["spec"]["template"]["spec"]
    return spec


@pytest.mark.parametrize("key", sorted(documents()), ids=lambda key: "/".join(key))
def test_manifest_is_valid_against_the_kubernetes_schema(key: tuple[str, str]) -> None:
    kubernetes_validate.validate(documents()[key], KUBERNETES, strict=True)


def test_the_validator_rejects_a_misspelled_field_and_a_wrong_type() -> None:
    broken = copy.deepcopy(documents()[("Deployment", "switchyard-api")])
    broken["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES, strict=True)
    broken = copy.deepcopy(documents()[("DaemonSet", "switchyard-agent")])
    broken["spec"]["template"]["spec"]["hostNetwork"] = "yes"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES, strict=True)


def test_kustomization_lists_every_manifest() -> None:
    kustomization = yaml.safe_load((DEPLOY / "kustomization.yaml").read_text())
    listed = set(kustomization["resources"])
    on_disk = {p.name for p in DEPLOY.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == on_disk


def test_api_has_probes_requests_the_secret_and_a_migration_job() -> None:
    (api,) = pod_spec("Deployment", "switchyard-api")["containers"]
    assert api["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert api["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert {"cpu", "memory"} <= set(api["resources"]["requests"])
    secrets = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in api["env"] if "valueFrom" in e
               and "secretKeyRef" in e["valueFrom"]}  # fmt: skip
    assert secrets["SWITCHYARD_ADMIN_TOKEN"] == {"name": "switchyard-api", "key": "admin-token"}
    assert ("Secret", "switchyard-api") in documents()
    (job,) = pod_spec("Job", "switchyard-api-migrate")["containers"]
    assert job["args"][:2] == ["switchyard-api", "migrate"]
    assert documents()[("Service", "switchyard-api")]["spec"]["ports"][1]["port"] == 9090


def test_agent_runs_on_the_host_network_with_its_mounts_and_no_extra_privilege() -> None:
    spec = pod_spec("DaemonSet", "switchyard-agent")
    assert spec["hostNetwork"] is True
    (agent,) = spec["containers"]
    security = agent["securityContext"]
    assert security["privileged"] is False and security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}
    host_paths = {v["name"]: v["hostPath"]["path"] for v in spec["volumes"]}
    assert host_paths == {
        "vpp-api": "/run/vpp",
        "state": "/var/lib/switchyard-agent",
        "node-token": "/etc/switchyard/node.token",
    }
    assert "--node=$(NODE_NAME)" in agent["args"]
    assert "--token-file=/etc/switchyard/node.token" in agent["args"]
    assert agent["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert spec["automountServiceAccountToken"] is False
