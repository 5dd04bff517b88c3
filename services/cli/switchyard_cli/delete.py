"""`delete KIND NAME...` and `delete -f FILE|DIR|-`."""

from __future__ import annotations

import click

from .errors import ApiError
from .get import complete_kind
from .kinds import UsageError, split_reference
from .manifests import load
from .state import global_options, state


@click.command()
@click.argument("kind", required=False, shell_complete=complete_kind)
@click.argument("names", nargs=-1)
@click.option("-f", "--filename", "files", multiple=True, help="delete the objects of manifests")
@click.option("--ignore-not-found", is_flag=True, help="a missing object is not an error")
@global_options
def delete(
    kind: str | None, names: tuple[str, ...], files: tuple[str, ...], ignore_not_found: bool
) -> None:
    """Delete objects by name, or those a manifest describes."""
    targets: list[tuple[str, str]] = []  # (label, path)
    if files:
        if kind is not None:
            raise UsageError("give either -f or KIND NAME, not both")
        targets = [(m.label, m.path) for m in reversed(load(files, state().namespace))]
    else:
        if kind is None:
            raise UsageError("delete needs KIND NAME or -f FILE")
        info, first = split_reference(kind, None)
        wanted = ([first] if first else []) + list(names)
        if not wanted:
            raise UsageError(f"delete {kind}: which one? give a name")
        targets = [(f"{info.kind.lower()}/{n}", info.item(n, state().namespace)) for n in wanted]
    failed = 0
    client = state().client()
    for label, path in targets:
        try:
            client.call("DELETE", path)
        except ApiError as exc:
            if exc.status == 404 and ignore_not_found:
                continue
            click.echo(f"switchyard: error: {label}: {exc.line()}", err=True)
            failed += 1
            continue
        click.echo(f"{label} deleted")
    if failed:
        raise SystemExit(1)
