"""Waiting until every node has applied an object's resourceVersion, with a live progress bar
of nodes converged. A NACK of a dataplane object compiled from it, or a compile error, ends the
wait at once (exit 1, naming the node and the object)."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import Any

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from .client import Client
from .kinds import UsageError, split_reference
from .output import console
from .state import global_options, state

POLL_SECONDS = 0.5


class WaitFailed(Exception):
    """The object cannot converge (NACK, compile error) or did not in time."""


@dataclass(frozen=True)
class Target:
    label: str  # service/web
    path: str


def laggards(client: Client, revision: int) -> list[str]:
    """Nodes that have not applied `revision` yet (to name them on a timeout)."""
    waiting = []
    for node in client.list_all("/v1/nodes"):
        applied = (node.get("status") or {}).get("appliedRevision") or 0
        if applied < revision:
            waiting.append(node["metadata"]["name"])
    return waiting


def check(target: Target, document: dict[str, Any]) -> tuple[int, int, bool]:
    """(applied, total, converged); raises WaitFailed on a NACK or a compile error."""
    status = document.get("status") or {}
    for failure in status.get("failures") or []:
        raise WaitFailed(
            f"{target.label}: node {failure.get('node')} rejected {failure.get('key')}: "
            f"{failure.get('message')}"
        )
    for problem in status.get("compileErrors") or []:
        where = f" for node {problem['node']}" if problem.get("node") else ""
        raise WaitFailed(f"{target.label}: compile error{where}: {problem.get('message')}")
    applied, total = int(status.get("appliedNodes", 0)), int(status.get("totalNodes", 0))
    return applied, total, applied >= total


def wait_for(client: Client, targets: list[Target], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    live = sys.stderr.isatty()
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("nodes converged"),
        TimeElapsedColumn(),
        console=console(stderr=True),
        disable=not live,
    ) as progress:
        for target in targets:
            task = progress.add_task(target.label, total=None)
            shown: tuple[int, int] | None = None
            while True:
                document = client.call("GET", target.path)
                applied, total, done = check(target, document)
                progress.update(task, completed=applied, total=total)
                if not live and shown != (applied, total):
                    click.echo(f"{target.label}: {applied}/{total} nodes converged", err=True)
                shown = (applied, total)
                if done:
                    break
                if time.monotonic() >= deadline:
                    revision = int(document["metadata"]["resourceVersion"])
                    names = ", ".join(laggards(client, revision)) or "?"
                    raise WaitFailed(
                        f"{target.label}: timed out after {timeout:g}s with {applied}/{total} "
                        f"nodes at resourceVersion {revision}; waiting for {names}"
                    )
                time.sleep(POLL_SECONDS)
    for target in targets:
        click.echo(f"{target.label} converged")


@click.command()
@click.argument("reference", metavar="KIND/NAME")
@click.argument("name", required=False)
@click.option(
    "--for", "condition", type=click.Choice(["converged"]), default="converged", show_default=True
)
@click.option("--timeout", type=float, default=60, show_default=True, help="seconds")
@global_options
def wait(reference: str, name: str | None, condition: str, timeout: float) -> None:
    """Wait until every node has applied the object (exit 1 on a NACK or on timeout)."""
    kind, name = split_reference(reference, name)
    if name is None:
        raise UsageError("wait needs KIND/NAME")
    label = f"{kind.kind.lower()}/{name}"
    wait_for(state().client(), [Target(label, kind.item(name, state().namespace))], timeout)
