"""Options that every command takes, wherever they stand on the command line (kubectl users
write `-n team get pods` and `get pods -n team` alike)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import click

from . import logs
from .client import Client
from .config import Connection, resolve

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class State:
    flags: dict[str, str | None] = field(default_factory=dict)
    _connection: Connection | None = None
    _client: Client | None = None

    def connection(self) -> Connection:
        if self._connection is None:
            self._connection = resolve(self.flags)
        return self._connection

    def client(self) -> Client:
        if self._client is None:
            self._client = Client(self.connection())
        return self._client

    @property
    def namespace(self) -> str:
        return self.connection().namespace

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def _store(name: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    def callback(ctx: click.Context, _: click.Parameter, value: Any) -> None:
        if value is not None:
            ctx.ensure_object(State).flags[name] = value
            if name == "log-format":
                logs.setup(value)

    return callback


GLOBAL_OPTIONS = (
    (("--api",), "api", "API URL (env SWITCHYARD_API)"),
    (("--token",), "token", "bearer token (env SWITCHYARD_TOKEN)"),
    (("--token-file",), "token-file", "file holding the token (env SWITCHYARD_TOKEN_FILE)"),
    (("--ca",), "ca", "CA bundle (PEM) for an https API (env SWITCHYARD_CA_FILE)"),
    (("--context",), "context", "context of the config file (env SWITCHYARD_CONTEXT)"),
    (("--config",), "config", "config file (env SWITCHYARD_CONFIG)"),
    (("-n", "--namespace"), "namespace", "namespace (env SWITCHYARD_NAMESPACE; default default)"),
    (("--log-format",), "log-format", "text or json (env SWITCHYARD_LOG_FORMAT)"),
)


def global_options(command: F) -> F:
    for names, key, text in reversed(GLOBAL_OPTIONS):
        choice = click.Choice(["text", "json"]) if key == "log-format" else None
        command = click.option(
            *names,
            key.replace("-", "_"),
            help=text,
            type=choice,
            expose_value=False,
            callback=_store(key),
        )(command)
    return command


def state() -> State:
    return click.get_current_context().ensure_object(State)
