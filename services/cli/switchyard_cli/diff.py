"""`diff -f`: a unified diff of each live object against what the server would store (a
dryRun=All write), then the write's per-node plan; exit status as kubectl diff's."""

from __future__ import annotations

from typing import Any

import click

from . import plan_verbs
from .apply import DRY_RUN_ALL, FILES, created_first, send
from .compare import comparable, predicted, unified
from .errors import ApiError, Failure
from .kinds import UsageError
from .manifests import Manifest, Ref, load
from .state import global_options, state


class DiffCommand(click.Command):
    """kubectl diff's exit status: 0 no differences, 1 differences, so 2 for every error."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            raise Failure(exc.format_message(), 2) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except UsageError as exc:
            raise Failure(str(exc), 2) from None
        except ApiError as exc:
            raise Failure(exc.line(), 2) from None


def show(manifest: Manifest, creating: set[Ref]) -> bool:
    """Print what applying the manifest would change; whether it would change anything."""
    before = state().client().get_or_none(manifest.path)
    live = comparable(before) if before is not None else None
    try:
        after, _ = send(manifest, DRY_RUN_ALL)
    except ApiError as exc:
        needed = created_first(manifest, creating)
        if needed is None:
            raise
        # the server cannot check it before `needed` exists: the client's guess, and why
        click.echo(unified(manifest.label, live, predicted(manifest.document, before)), nl=False)
        click.echo(
            f"per-node plan of {manifest.label}: not known before {needed} exists "
            f"(a dry run checks each object alone): {exc.line()}"
        )
        creating.add(manifest.ref)
        return True
    if before is None:
        creating.add(manifest.ref)
    plan = after.pop("plan")
    text = unified(manifest.label, live, comparable(after))
    click.echo(text, nl=False)
    if plan["counts"]["nodes"]:
        click.echo(f"per-node plan of {manifest.label}:")
        click.echo(plan_verbs.render_plan(plan, verbose=False))
    return bool(text) or bool(plan["counts"]["nodes"])


@click.command(cls=DiffCommand)
@FILES
@global_options
def diff(files: tuple[str, ...]) -> None:
    """Show what `apply -f` would change: a unified diff of each object against what the
    server would store (a dry run), then the nodes' plan. Exit 0 when nothing would change,
    1 when something would, 2 on an error."""
    changed = failed = False
    creating: set[Ref] = set()
    for manifest in load(files, state().namespace):
        try:
            changed = show(manifest, creating) or changed
        except ApiError as exc:
            click.echo(f"switchyard: error: {manifest.label}: {exc.line()}", err=True)
            failed = True
    if failed:
        raise click.exceptions.Exit(2)
    if changed:
        raise click.exceptions.Exit(1)
