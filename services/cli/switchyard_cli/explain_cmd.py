"""`switchyard explain SOURCE -> DESTINATION`: is this flow allowed, and where does it go?"""

from __future__ import annotations

import click

from . import plan_verbs
from .state import global_options, state


@click.command(context_settings={"ignore_unknown_options": True})
@global_options
@click.argument("flow", nargs=-1, required=True)
@click.option("-o", "--output", type=click.Choice(["text", "json"]), default="text")
def explain(flow: tuple[str, ...], output: str) -> None:
    """Explain a flow over the compiled dataplane, e.g. `explain ns/pod '->' ns/svc:80/TCP`
    (exit 3 when denied)."""
    try:
        source, target = plan_verbs.split_flow(list(flow))
    except ValueError as exc:
        click.echo(f"switchyard: {exc}", err=True)
        raise click.exceptions.Exit(2) from None
    text, code = plan_verbs.explain(state().client().http, source, target, output)
    click.echo(text)
    if code:
        raise click.exceptions.Exit(code)
