"""The Kubernetes Node's pod CIDRs, read from the in-cluster API with the pod's service-account
token (standard library only: the installer runs where nothing else may be installed)."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")


class KubeError(Exception):
    """The Node could not be read: the message is the one line the installer prints."""


def _api_base(environ: Mapping[str, str]) -> str:
    host = environ.get("KUBERNETES_SERVICE_HOST", "").strip()
    port = environ.get("KUBERNETES_SERVICE_PORT", "").strip() or "443"
    if not host:
        raise KubeError(
            "KUBERNETES_SERVICE_HOST is not set: --from-node works in a pod; else use --pod-cidr"
        )
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    return f"https://{host}:{port}"


def _read(path: Path, what: str) -> str:
    try:
        return path.read_text().strip()
    except OSError as exc:
        raise KubeError(f"cannot read the {what} {path}: {exc.strerror or exc}") from None


def _status_message(error: urllib.error.HTTPError) -> str:
    try:
        body: Any = json.loads(error.read() or b"{}")
    except ValueError:
        body = {}
    message = body.get("message") if isinstance(body, dict) else None
    return str(message or error.reason)


def read_node(
    name: str,
    environ: Mapping[str, str],
    service_account_dir: Path = SERVICE_ACCOUNT_DIR,
    timeout: float = 10.0,
) -> dict[str, Any]:
    """GET /api/v1/nodes/NAME over TLS verified with the service account's CA."""
    base = _api_base(environ)
    token = _read(service_account_dir / "token", "service-account token")
    ca = service_account_dir / "ca.crt"
    _read(ca, "cluster CA")
    context = ssl.create_default_context(cafile=str(ca))
    url = f"{base}/api/v1/nodes/{urllib.parse.quote(name, safe='')}"
    request = urllib.request.Request(
        url, headers={"Authorization": f"Bearer {token}", "Accept": "application/json"}
    )
    # No proxy: the API server is the cluster's own (HTTPS_PROXY must not capture it).
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context)
    )
    try:
        with opener.open(request, timeout=timeout) as response:
            node: Any = json.load(response)
    except urllib.error.HTTPError as exc:
        raise KubeError(f"reading Node {name}: HTTP {exc.code}: {_status_message(exc)}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise KubeError(f"cannot read Node {name} from {base}: {reason}") from None
    if not isinstance(node, dict):
        raise KubeError(f"reading Node {name}: the API answered no object")
    return node


def pod_cidrs(node: Mapping[str, Any]) -> list[str]:
    """spec.podCIDRs, or the older single spec.podCIDR; empty when none is allocated yet."""
    spec = node.get("spec") or {}
    cidrs = spec.get("podCIDRs") or ([spec["podCIDR"]] if spec.get("podCIDR") else [])
    return [str(c) for c in cidrs]
