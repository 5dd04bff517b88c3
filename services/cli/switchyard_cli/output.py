"""Printing objects: kubectl-style tables (default, wide) or json, yaml, name."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import yaml
from rich import box
from rich.console import Console
from rich.table import Table

from .kinds import BY_DOCUMENT_KIND

FORMATS = ("table", "wide", "json", "yaml", "name")
Doc = dict[str, Any]
Column = tuple[str, Callable[[Doc], str]]


def console(stderr: bool = False) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    # Not a terminal (a pipe, a test): wide enough that tables are never wrapped.
    return Console(file=stream, width=None if stream.isatty() else 250, highlight=False)


def joined(values: Any) -> str:
    return ",".join(str(v) for v in values or []) or "<none>"


def age(document: Doc) -> str:
    stamp = document.get("metadata", {}).get("creationTimestamp")
    if not stamp:
        return "<unknown>"
    seconds = int((datetime.now(UTC) - datetime.fromisoformat(stamp)).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{max(seconds, 0)}s"


def converged(document: Doc) -> str:
    status = document.get("status") or {}
    if "totalNodes" not in status:
        return "-"
    mark = " !" if status.get("failures") or status.get("compileErrors") else ""
    return f"{status.get('appliedNodes', 0)}/{status['totalNodes']}{mark}"


def spec(document: Doc) -> Doc:
    value: Doc = document.get("spec") or {}
    return value


def ports(document: Doc) -> str:
    return joined(
        f"{p.get('port')}{':' + str(p['nodePort']) if p.get('nodePort') else ''}/"
        f"{p.get('protocol', 'TCP')}"
        for p in spec(document).get("ports", [])
    )


def selector(value: Doc | None) -> str:
    if not value:
        return "<all>"
    parts = [f"{k}={v}" for k, v in (value.get("matchLabels") or {}).items()]
    parts += [
        f"{e.get('key')} {e.get('operator')} ({joined(e.get('values'))})"
        for e in value.get("matchExpressions") or []
    ]
    return ",".join(parts) or "<all>"


def node_status(field: str) -> Callable[[Doc], str]:
    return lambda d: str((d.get("status") or {}).get(field, "")) or "-"


COLUMNS: dict[str, list[Column]] = {
    "Namespace": [],
    "Node": [
        ("ADDRESSES", lambda d: joined(spec(d).get("addresses"))),
        ("CONNECTED", node_status("connected")),
        ("APPLIED", lambda d: str((d.get("status") or {}).get("appliedRevision") or "-")),
    ],
    "LoadBalancer": [
        ("VIP", lambda d: str(spec(d).get("vip"))),
        ("PORT", lambda d: f"{spec(d).get('port')}/{spec(d).get('protocol')}"),
        ("ENCAP", lambda d: str(spec(d).get("encap"))),
    ],
    "BgpPeer": [
        ("PEER", lambda d: str(spec(d).get("peerIP"))),
        ("ASN", lambda d: str(spec(d).get("asNumber"))),
    ],
    "Pod": [
        ("NODE", lambda d: str(spec(d).get("nodeName") or "<none>")),
        ("IPS", lambda d: joined(spec(d).get("podIPs"))),
    ],
    "Service": [
        ("TYPE", lambda d: str(spec(d).get("type", "ClusterIP"))),
        ("CLUSTER-IPS", lambda d: joined(spec(d).get("clusterIPs"))),
        ("PORTS", ports),
    ],
    "EndpointSlice": [
        ("ENDPOINTS", lambda d: joined(a for e in d.get("endpoints", []) for a in e["addresses"])),
    ],
    "NetworkPolicy": [
        ("POD-SELECTOR", lambda d: selector(spec(d).get("podSelector"))),
        ("TYPES", lambda d: joined(spec(d).get("policyTypes"))),
    ],
}
WIDE: dict[str, list[Column]] = {
    "Node": [
        ("PENDING", node_status("pendingObjects")),
        ("AGENT", node_status("agentVersion")),
        ("LAST-ERROR", node_status("lastError")),
    ],
    "Service": [
        ("EXTERNAL-IPS", lambda d: joined(spec(d).get("externalIPs"))),
        ("AFFINITY", lambda d: str(spec(d).get("sessionAffinity", "None"))),
    ],
    "Pod": [("INTERFACE", lambda d: str(spec(d).get("interface") or "<none>"))],
    "LoadBalancer": [("SELECTOR", lambda d: selector(spec(d).get("lbNodeSelector")))],
    "BgpPeer": [("NODE-SELECTOR", lambda d: selector(spec(d).get("nodeSelector")))],
}
LABELS: Column = (
    "LABELS",
    lambda d: (
        ",".join(f"{k}={v}" for k, v in (d["metadata"].get("labels") or {}).items()) or "<none>"
    ),
)


def table(kind: str, items: list[Doc], wide: bool, with_namespace: bool) -> Table:
    columns: list[Column] = [("NAME", lambda d: str(d["metadata"]["name"]))]
    if with_namespace:
        columns.insert(0, ("NAMESPACE", lambda d: str(d["metadata"].get("namespace", ""))))
    columns += COLUMNS.get(kind, [])
    if wide:
        columns += WIDE.get(kind, [])
    if kind != "EndpointSlice":
        columns.append(("CONVERGED", converged))
    columns.append(("AGE", age))
    if wide:
        columns.append(LABELS)
    grid = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold")
    for title, _ in columns:
        grid.add_column(title, no_wrap=True)
    for item in items:
        grid.add_row(*(cell(item) for _, cell in columns))
    return grid


def reference(document: Doc) -> str:
    kind = BY_DOCUMENT_KIND.get(str(document.get("kind")))
    name = document.get("metadata", {}).get("name")
    return f"{(kind.kind if kind else str(document.get('kind'))).lower()}/{name}"


def show(kind: str, items: list[Doc], single: bool, fmt: str, with_namespace: bool) -> None:
    if fmt == "name":
        for item in items:
            print(reference(item))
        return
    if fmt in ("json", "yaml"):
        body: Any = items[0] if single else {"kind": f"{kind}List", "items": items}
        if fmt == "json":
            print(json.dumps(body, indent=2))
        else:
            print(yaml.safe_dump(body, sort_keys=False), end="")
        return
    if not items:
        print("No resources found.", file=sys.stderr)
        return
    console().print(table(kind, items, fmt == "wide", with_namespace))
