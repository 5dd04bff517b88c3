"""deploy/kubernetes/adapter validates against the Kubernetes schemas, and its ClusterRole
grants exactly what the adapter uses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from switchyard_kube.kube import KIND_APIS

MANIFEST = Path(__file__).parents[2] / "deploy" / "kubernetes" / "adapter" / "switchyard-kube.yaml"
KUBERNETES_VERSION = "1.30.0"


def documents() -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(MANIFEST.read_text()) if d]


def test_manifest_holds_the_four_objects() -> None:
    kinds = sorted(d["kind"] for d in documents())
    assert kinds == ["ClusterRole", "ClusterRoleBinding", "Deployment", "ServiceAccount"]


@pytest.mark.parametrize("index", range(4))
def test_each_object_validates_against_the_kubernetes_schema(index: int) -> None:
    document = documents()[index]
    kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


def test_a_broken_object_fails_validation() -> None:
    deployment = next(d for d in documents() if d["kind"] == "Deployment")
    deployment["spec"]["replicas"] = "one"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def test_cluster_role_is_list_and_watch_of_the_mirrored_kinds_plus_events() -> None:
    role = next(d for d in documents() if d["kind"] == "ClusterRole")
    granted = {
        (group, resource, verb)
        for rule in role["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }
    mirrored = {
        ("" if api.api_version == "v1" else api.api_version.split("/")[0], api.plural, verb)
        for api in KIND_APIS.values()
        for verb in ("list", "watch")
    }
    assert granted == mirrored | {("", "events", "create")}


def test_the_deployment_runs_the_adapter_with_its_token_and_probes() -> None:
    deployment = next(d for d in documents() if d["kind"] == "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert pod["serviceAccountName"] == "switchyard-kube"
    assert container["command"] == ["switchyard-kube"]
    assert "--token-file=/var/run/secrets/switchyard/token" in container["args"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/healthz"


def test_the_adapter_runs_beside_the_api_and_reaches_its_service() -> None:
    """Same namespace as deploy/kubernetes (its kustomization), and SWITCHYARD_URL names
    the API Service's DNS name and HTTP port there."""
    base = MANIFEST.parents[1]
    namespace = yaml.safe_load((base / "kustomization.yaml").read_text())["namespace"]
    service = yaml.safe_load((base / "api-service.yaml").read_text())
    port = next(p["port"] for p in service["spec"]["ports"] if p["name"] == "http")
    for document in documents():
        if document["kind"] != "ClusterRole":
            assert document["metadata"].get("namespace", namespace) == namespace, document["kind"]
    binding = next(d for d in documents() if d["kind"] == "ClusterRoleBinding")
    assert all(s["namespace"] == namespace for s in binding["subjects"])
    deployment = next(d for d in documents() if d["kind"] == "Deployment")
    env = {
        e["name"]: e.get("value")
        for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    name = service["metadata"]["name"]
    assert env["SWITCHYARD_URL"] == f"http://{name}.{namespace}.svc:{port}"
