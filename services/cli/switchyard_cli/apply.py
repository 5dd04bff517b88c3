"""`apply -f` (create or replace; `unchanged` when nothing changed; `--wait`; `--dry-run`)."""

from __future__ import annotations

from typing import Any

import click

from . import plan_verbs
from .compare import comparable, predicted
from .errors import ApiError, from_response
from .kinds import BY_DOCUMENT_KIND, UsageError
from .manifests import Manifest, Ref, load
from .state import global_options, state
from .wait import Target, wait_for

Doc = dict[str, Any]
FILES = click.option(
    "-f",
    "--filename",
    "files",
    multiple=True,
    required=True,
    help="manifest file, directory, or - for stdin (YAML or JSON; repeatable)",
)
DRY_RUN_ALL = {"dryRun": "All"}
# what kubectl appends to each line of a dry run
DRY_RUN_MARK = {"none": "", "client": " (dry run)", "server": " (server dry run)"}


def send(manifest: Manifest, params: dict[str, str]) -> tuple[Doc, int]:
    """The server's answer to a PUT of the manifest, and its status."""
    response = state().client().request("PUT", manifest.path, json=manifest.document, params=params)
    if not response.is_success:
        raise from_response(response)
    answer: Doc = response.json()
    return answer, response.status_code


def verb(before: Doc | None, after: Doc) -> str:
    if before is None:
        return "created"
    return "unchanged" if comparable(before) == comparable(after) else "configured"


def created_first(manifest: Manifest, creating: set[Ref]) -> str | None:
    """An object that `manifest` needs and that these manifests create before it: a dry run
    checks each object alone, so the server does not know of it yet."""
    for kind, _, name in (ref for ref in manifest.needs() if ref in creating):
        return f"{BY_DOCUMENT_KIND[kind].kind.lower()}/{name}"
    return None


@click.command()
@FILES
@click.option(
    "--dry-run",
    type=click.Choice(list(DRY_RUN_MARK)),
    default="none",
    show_default=True,
    help="server: the server checks each object and plans it per node, storing nothing; "
    "client: compare the manifests with the live objects, write nothing",
)
@click.option("-v", "--verbose", is_flag=True, help="with --dry-run=server: the planned values")
@click.option("--wait", "wait_", is_flag=True, help="then wait until every node applied them")
@click.option("--timeout", type=float, default=60, show_default=True, help="for --wait, seconds")
@global_options
def apply(files: tuple[str, ...], dry_run: str, verbose: bool, wait_: bool, timeout: float) -> None:
    """Create or replace the objects of manifests (EndpointSlices included)."""
    if verbose and dry_run != "server":
        raise UsageError("--verbose shows the plan of --dry-run=server")
    if wait_ and dry_run != "none":
        raise UsageError("--wait waits for stored objects: a dry run stores none")
    manifests = load(files, state().namespace)
    params = (DRY_RUN_ALL | ({"verbose": "true"} if verbose else {})) if dry_run == "server" else {}
    client = state().client()
    failed = 0
    applied: list[Target] = []
    creating: set[Ref] = set()
    for manifest in manifests:
        plan = None
        try:
            before = client.get_or_none(manifest.path)
            if dry_run == "client":
                done = verb(before, predicted(manifest.document, before))
            else:
                answer, status = send(manifest, params)
                plan = answer.pop("plan", None)
                done = "created" if status == 201 else verb(before, answer)
        except ApiError as exc:
            needed = created_first(manifest, creating) if dry_run != "none" else None
            hint = f" ({needed} comes first in these manifests; a dry run checks each object alone)"
            click.echo(
                f"switchyard: error: {manifest.label}: {exc.line()}{hint if needed else ''}",
                err=True,
            )
            failed += 1
            continue
        if before is None:
            creating.add(manifest.ref)
        click.echo(f"{manifest.label} {done}{DRY_RUN_MARK[dry_run]}")
        if plan is not None:
            click.echo(plan_verbs.render_plan(plan, verbose))
        applied.append(Target(manifest.label, manifest.path))
    if wait_ and applied:
        wait_for(client, applied, timeout)
    if failed:
        raise SystemExit(1)
