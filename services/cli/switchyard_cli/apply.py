"""`apply -f` (create or replace; `unchanged` when nothing changed; `--wait`) and `diff -f`."""

from __future__ import annotations

import click

from .compare import comparable, predicted, unified
from .errors import ApiError, from_response
from .manifests import Manifest, load
from .state import global_options, state
from .wait import Target, wait_for

FILES = click.option(
    "-f",
    "--filename",
    "files",
    multiple=True,
    required=True,
    help="manifest file, directory, or - for stdin (YAML or JSON; repeatable)",
)


def apply_one(manifest: Manifest) -> str:
    client = state().client()
    before = client.get_or_none(manifest.path)
    response = client.request("PUT", manifest.path, json=manifest.document)
    if not response.is_success:
        raise from_response(response)
    if response.status_code == 201 or before is None:
        return "created"
    return "unchanged" if comparable(before) == comparable(response.json()) else "configured"


@click.command()
@FILES
@click.option("--wait", "wait_", is_flag=True, help="then wait until every node applied them")
@click.option("--timeout", type=float, default=60, show_default=True, help="for --wait, seconds")
@global_options
def apply(files: tuple[str, ...], wait_: bool, timeout: float) -> None:
    """Create or replace the objects of manifests (EndpointSlices included)."""
    manifests = load(files, state().namespace)
    failed = 0
    applied: list[Target] = []
    for manifest in manifests:
        try:
            verb = apply_one(manifest)
        except ApiError as exc:
            click.echo(f"switchyard: error: {manifest.label}: {exc.line()}", err=True)
            failed += 1
            continue
        click.echo(f"{manifest.label} {verb}")
        applied.append(Target(manifest.label, manifest.path))
    if wait_ and applied:
        wait_for(state().client(), applied, timeout)
    if failed:
        raise SystemExit(1)


@click.command()
@FILES
@global_options
def diff(files: tuple[str, ...]) -> None:
    """Show what `apply -f` would change, as a unified diff (nothing when nothing would)."""
    client = state().client()
    for manifest in load(files, state().namespace):
        before = client.get_or_none(manifest.path)
        if before is None:
            text = unified(manifest.label, None, comparable(manifest.document))
        else:
            text = unified(manifest.label, comparable(before), predicted(manifest.document, before))
        click.echo(text, nl=False)
