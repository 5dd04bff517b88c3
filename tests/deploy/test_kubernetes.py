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
    host_paths = {v["name"]: v["hostPath"]["path"] for v in spec["volumes"] if "hostPath" in v}
    assert host_paths == {
        "vpp-api": "/run/vpp",
        "state": "/var/lib/switchyard-agent",
        "node-token": "/etc/switchyard/node.token",
        "switchyard-run": "/run/switchyard",
        "cni-bin": "/opt/cni/bin",
        "cni-conf": "/etc/cni/net.d",
    }
    assert "--node=$(NODE_NAME)" in agent["args"]
    assert "--token-file=/etc/switchyard/node.token" in agent["args"]
    assert agent["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert spec["automountServiceAccountToken"] is False
    # The agent gets no Kubernetes token; only the init container reads the Node.
    assert {m["name"] for m in agent["volumeMounts"]} == {
        "vpp-api", "state", "node-token", "switchyard-run"
    }  # fmt: skip


def _mounts(container: dict[str, Any], volumes: list[dict[str, Any]]) -> dict[str, str]:
    """mountPath -> host path (or the volume's name when it is not a hostPath)."""
    by_name = {v["name"]: v.get("hostPath", {}).get("path", v["name"]) for v in volumes}
    return {m["mountPath"]: by_name[m["name"]] for m in container["volumeMounts"]}


def test_agent_serves_cni_on_the_socket_the_installed_conflist_names() -> None:
    from switchyard_agent.attachments.paths import DEFAULT_SOCKET
    from switchyard_agent.cli import build_parser, load_settings

    spec = pod_spec("DaemonSet", "switchyard-agent")
    (agent,) = spec["containers"]
    settings = load_settings(build_parser().parse_args(agent["args"][1:]))
    assert settings.cni_socket == DEFAULT_SOCKET == "/run/switchyard/cni.sock"
    assert _mounts(agent, spec["volumes"])["/run/switchyard"] == "/run/switchyard"


def test_init_container_installs_plugin_and_conflist_into_the_host_cni_directories() -> None:
    from switchyard_agent.cni.install import parser

    spec = pod_spec("DaemonSet", "switchyard-agent")
    (install,) = spec["initContainers"]
    (agent,) = spec["containers"]
    assert install["image"] == agent["image"]
    assert install["args"][:2] == ["switchyard-cni", "install"]
    env = {e["name"]: e for e in install["env"]}
    assert env["NODE_NAME"]["valueFrom"] == {"fieldRef": {"fieldPath": "spec.nodeName"}}
    # The args are the installer's own options, and its directories are the host's.
    args = parser().parse_args([a.replace("$(NODE_NAME)", "n1") for a in install["args"][2:]])
    assert args.from_node == "n1" and args.pod_cidr is None
    mounts = _mounts(install, spec["volumes"])
    assert mounts[args.bin_dir] == "/opt/cni/bin"
    assert mounts[args.conf_dir] == "/etc/cni/net.d"
    assert mounts[args.service_account_dir] == "kube-api-access"
    security = install["securityContext"]
    assert security["privileged"] is False and security["capabilities"] == {"drop": ["ALL"]}


def test_the_service_account_may_get_nodes_and_nothing_else() -> None:
    daemonset = documents()[("DaemonSet", "switchyard-agent")]
    account = daemonset["spec"]["template"]["spec"]["serviceAccountName"]
    namespace = daemonset["metadata"]["namespace"]
    assert documents()[("ServiceAccount", account)]["metadata"]["namespace"] == namespace
    binding = documents()[("ClusterRoleBinding", account)]
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": account, "namespace": namespace}
    ]
    role = documents()[("ClusterRole", binding["roleRef"]["name"])]
    assert role["rules"] == [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get"]}]
    projected = {v["name"]: v for v in daemonset["spec"]["template"]["spec"]["volumes"]}
    sources = projected["kube-api-access"]["projected"]["sources"]
    assert {"serviceAccountToken", "configMap"} == {k for s in sources for k in s}
