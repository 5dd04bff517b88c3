"""`switchyard get KIND [NAME]`: tables, or -o json|yaml|wide|name; -l, -A."""

from __future__ import annotations

from typing import Any

import click

from . import output
from .kinds import NAMES, UsageError, split_reference
from .state import global_options, state


def complete_kind(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    return [name for name in NAMES if name.startswith(incomplete)]


@click.command()
@click.argument("kind", shell_complete=complete_kind)
@click.argument("name", required=False)
@click.option("-o", "--output", "fmt", type=click.Choice(output.FORMATS), default="table")
@click.option("-l", "--selector", help="label selector, e.g. app=web,tier!=db")
@click.option("-A", "--all-namespaces", is_flag=True, help="every namespace")
@global_options
def get(kind: str, name: str | None, fmt: str, selector: str | None, all_namespaces: bool) -> None:
    """List objects of a kind, or show one."""
    info, name = split_reference(kind, name)
    client = state().client()
    if name is not None:
        if all_namespaces or selector:
            raise UsageError("a name cannot be combined with -A or -l")
        document = client.call("GET", info.item(name, state().namespace))
        output.show(info.kind, [document], True, fmt, False)
        return
    params = {"labelSelector": selector} if selector else None
    items: list[dict[str, Any]] = []
    if info.namespaced and all_namespaces:
        for namespace in client.list_all("/v1/namespaces"):
            path = info.collection(namespace["metadata"]["name"])
            items.extend(client.list_all(path, params))
    else:
        items = client.list_all(info.collection(state().namespace), params)
    output.show(info.kind, items, False, fmt, info.namespaced and all_namespaces)


@click.command()
@click.option("--since", type=int, help="replay changes after this revision")
@global_options
def events(since: int | None) -> None:
    """Follow the change stream (one JSON line per change)."""
    import json

    for event in state().client().events(since):
        click.echo(json.dumps(event))
