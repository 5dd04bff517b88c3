"""`switchyard status`: the nodes' convergence at a glance."""

from __future__ import annotations

from typing import Any

import click
from rich import box
from rich.table import Table

from .output import console
from .state import global_options, state


def pending(node: dict[str, Any]) -> str:
    # The count only: `describe node NAME` lists the objects with what each waits for.
    return str(node.get("pendingObjects") or 0)


@click.command()
@global_options
def status() -> None:
    """Nodes: connected, applied revision, lag, last error, pending objects."""
    body = state().client().call("GET", "/v1/status")
    click.echo(f"revision {body['revision']}, compiled {body.get('compiledRevision')}")
    grid = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold")
    for title in ("NODE", "CONNECTED", "APPLIED", "LAG", "LAST-ERROR", "PENDING"):
        grid.add_column(title, no_wrap=True)
    for node in body["nodes"]:
        grid.add_row(
            node["name"],
            "yes" if node.get("connected") else "no",
            str(node.get("appliedRevision") or "-"),
            "-" if node.get("lag") is None else str(node["lag"]),
            node.get("lastError") or "-",
            pending(node),
        )
    if body["nodes"]:
        console().print(grid)
        if any(node.get("pendingObjects") for node in body["nodes"]):
            click.echo("what pending objects wait for: switchyard describe node NAME")
    else:
        click.echo("no nodes")
    for problem in body.get("compileErrors") or []:
        where = problem["node"] or "all nodes"
        click.echo(f"compile error: {problem['object']} ({where}): {problem['message']}")
