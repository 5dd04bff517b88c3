"""`describe KIND NAME`: a summary of the spec, convergence across nodes, NACK failures,
compile errors and the object's recent changes from the change log."""

from __future__ import annotations

from typing import Any

import click
import yaml

from .client import Client
from .errors import ApiError
from .get import complete_kind
from .kinds import Kind, UsageError, split_reference
from .output import age
from .state import global_options, state

EVENT_WINDOW = 1000  # revisions of the change log searched for the object's changes


def recent_changes(client: Client, kind: Kind, namespace: str, name: str, upto: int) -> list[str]:
    """The object's change-log entries among the last EVENT_WINDOW revisions."""
    since = max(0, upto - EVENT_WINDOW)
    try:
        stream = client.events(since)
        found = []
        for event in stream:
            if (event["kind"], event["namespace"], event["name"]) == (kind.kind, namespace, name):
                found.append(f"{event['revision']:>10}  {event['type']}")
            if event["revision"] >= upto:
                break
        stream.close()
        return found[-10:]
    except ApiError as exc:
        return [f"(change log unavailable: {exc.line()})"]


def block(title: str, value: Any) -> str:
    text = yaml.safe_dump(value, sort_keys=False).rstrip()
    return f"{title}:\n" + "\n".join("  " + line for line in text.splitlines())


def pending_lines(status: dict[str, Any]) -> list[str]:
    """A node's pending objects, each with why it waits (the API lists the first 100)."""
    count = int(status.get("pendingObjects") or 0)
    listed = status.get("pending") or []
    lines = ["Pending:" + (f"          {count} object(s)" if count else "          <none>")]
    for item in listed:
        waits = ", ".join(item.get("waitingFor") or []) or "-"
        lines.append(f"  {item.get('key')}")
        lines.append(f"    waits for:  {waits}")
        lines.append(f"    reason:     {item.get('reason') or '-'}")
    if count > len(listed):
        lines.append(f"  ... and {count - len(listed)} more not listed")
    return lines


def describe_text(kind: Kind, document: dict[str, Any], changes: list[str]) -> str:
    metadata = document["metadata"]
    lines = [f"Name:             {metadata['name']}"]
    if metadata.get("namespace"):
        lines.append(f"Namespace:        {metadata['namespace']}")
    labels = ",".join(f"{k}={v}" for k, v in (metadata.get("labels") or {}).items())
    lines += [
        f"Kind:             {kind.kind}",
        f"Labels:           {labels or '<none>'}",
        f"ResourceVersion:  {metadata.get('resourceVersion')}",
        f"Age:              {age(document)}",
    ]
    body = {
        k: v for k, v in document.items() if k not in ("apiVersion", "kind", "metadata", "status")
    }
    lines.append(block("Spec", body.get("spec", body)))
    status = document.get("status") or {}
    if kind.kind == "Node":
        lines.append(block("Status", {k: v for k, v in status.items() if k != "pending"}))
        lines += pending_lines(status)
    elif "totalNodes" in status:
        lines.append(
            f"Convergence:      {status['appliedNodes']}/{status['totalNodes']} nodes applied "
            f"resourceVersion {metadata.get('resourceVersion')}"
        )
        failures = status.get("failures") or []
        lines.append("Failures:" + ("" if failures else "         <none>"))
        lines += [f"  node {f['node']}: {f['key']}: {f['message']}" for f in failures]
        errors = status.get("compileErrors") or []
        lines.append("Compile errors:" + ("" if errors else "   <none>"))
        lines += [f"  {e.get('node') or 'all nodes'}: {e['message']}" for e in errors]
    lines.append("Events:" + ("" if changes else "           <none>"))
    if changes:
        lines.append("    REVISION  TYPE")
        lines += ["  " + change for change in changes]
    return "\n".join(lines)


@click.command()
@click.argument("kind", shell_complete=complete_kind)
@click.argument("name", required=False)
@global_options
def describe(kind: str, name: str | None) -> None:
    """Show one object in detail."""
    info, name = split_reference(kind, name)
    if name is None:
        raise UsageError("describe needs KIND NAME")
    client = state().client()
    namespace = state().namespace if info.namespaced else ""
    document = client.call("GET", info.item(name, namespace))
    upto = int(client.call("GET", "/v1/status")["revision"])
    changes = recent_changes(client, info, namespace, name, upto)
    click.echo(describe_text(info, document, changes))
