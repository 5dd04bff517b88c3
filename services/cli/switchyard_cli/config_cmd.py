"""`switchyard config`: contexts of the config file (API URL, token file, CA, namespace)."""

from __future__ import annotations

import click
import yaml

from .config import CONTEXT_KEYS, config_path, read_file, resolve, write_file
from .kinds import UsageError
from .state import global_options, state


@click.group()
def config() -> None:
    """Show or edit the config file ($SWITCHYARD_CONFIG, ~/.config/switchyard/config.yaml)."""


@config.command("view")
@global_options
def view() -> None:
    """Print the file, and the settings in effect (flags and environment applied)."""
    path = config_path(state().flags.get("config"))
    click.echo(f"# {path}")
    click.echo(yaml.safe_dump(read_file(path), sort_keys=False), nl=False)
    effective = resolve(state().flags)
    click.echo("# in effect:")
    click.echo(
        yaml.safe_dump(
            {
                "api": effective.api,
                "token": "<set>" if effective.token else "<none>",  # never print the secret
                "ca": effective.ca,
                "namespace": effective.namespace,
            },
            sort_keys=False,
        ),
        nl=False,
    )


@config.command("get-contexts")
@global_options
def get_contexts() -> None:
    """List the contexts; * marks the current one."""
    document = read_file(config_path(state().flags.get("config")))
    for name, context in document["contexts"].items():
        mark = "*" if name == document.get("current-context") else " "
        click.echo(f"{mark} {name}  {context.get('api', '')}")


@config.command("use-context")
@click.argument("name")
@global_options
def use_context(name: str) -> None:
    """Make NAME the current context."""
    path = config_path(state().flags.get("config"))
    document = read_file(path)
    if name not in document["contexts"]:
        raise UsageError(f"config {path}: no context {name!r}")
    document["current-context"] = name
    write_file(path, document)
    click.echo(f"current context: {name}")


@config.command("set-context")
@click.argument("name")
@click.option("--server", "api", help="API URL")
@click.option("--token-path", "token_file", help="file holding the token")
@click.option("--ca-file", "ca", help="CA bundle (PEM)")
@click.option("--default-namespace", "namespace", help="namespace")
@global_options
def set_context(
    name: str, api: str | None, token_file: str | None, ca: str | None, namespace: str | None
) -> None:
    """Create or update a context (the first one becomes current)."""
    path = config_path(state().flags.get("config"))
    document = read_file(path)
    context = document["contexts"].setdefault(name, {})
    given = dict(zip(CONTEXT_KEYS, (api, token_file, ca, namespace), strict=True))
    context.update({k: v for k, v in given.items() if v is not None})
    document.setdefault("current-context", name)
    write_file(path, document)
    click.echo(f"context {name} saved in {path}")
