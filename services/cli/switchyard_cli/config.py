"""Where the CLI connects: flags, then SWITCHYARD_* environment, then the current context of
the config file, then defaults.

The file ($SWITCHYARD_CONFIG, default ~/.config/switchyard/config.yaml):

    current-context: lab
    contexts:
      lab:
        api: https://switchyard.lab:8443
        token-file: ~/.config/switchyard/lab.token
        ca: ~/.config/switchyard/lab-ca.pem
        namespace: default
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .kinds import UsageError

DEFAULT_API = "http://127.0.0.1:8080"
CONTEXT_KEYS = ("api", "token-file", "ca", "namespace")
# setting -> environment variables, first found wins (SWITCHYARD_URL and SWITCHYARD_USER_TOKEN
# are the names of earlier releases)
ENVIRONMENT = {
    "context": ("SWITCHYARD_CONTEXT",),
    "api": ("SWITCHYARD_API", "SWITCHYARD_URL"),
    "token": ("SWITCHYARD_TOKEN", "SWITCHYARD_USER_TOKEN"),
    "token-file": ("SWITCHYARD_TOKEN_FILE",),
    "ca": ("SWITCHYARD_CA_FILE",),
    "namespace": ("SWITCHYARD_NAMESPACE",),
}


def config_path(given: str | None = None) -> Path:
    path = given or os.environ.get("SWITCHYARD_CONFIG") or "~/.config/switchyard/config.yaml"
    return Path(path).expanduser()


def read_file(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {"contexts": {}}
    try:
        loaded = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise UsageError(f"config {path}: {str(exc).splitlines()[0]}") from None
    if not isinstance(loaded, dict) or not isinstance(loaded.get("contexts", {}), dict):
        raise UsageError(f"config {path}: expected a mapping with `contexts`")
    loaded.setdefault("contexts", {})
    return loaded


def write_file(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(document, sort_keys=False))


def environment(name: str) -> str | None:
    return next((os.environ[v] for v in ENVIRONMENT[name] if os.environ.get(v)), None)


@dataclass
class Connection:
    api: str
    token: str | None
    ca: str | None
    namespace: str


def resolve(flags: dict[str, str | None]) -> Connection:
    """The effective settings, each from the first of: flag, environment, context, default."""
    path = config_path(flags.get("config"))
    document = read_file(path)
    context_name = flags.get("context") or environment("context") or document.get("current-context")
    context: dict[str, Any] = {}
    if context_name:
        context = document["contexts"].get(context_name)
        if not isinstance(context, dict):
            raise UsageError(f"config {path}: no context {context_name!r}")

    def pick(name: str) -> str | None:
        value = flags.get(name) or environment(name) or context.get(name)
        return str(value) if value is not None else None

    token = flags.get("token") or environment("token")
    token_file = pick("token-file")
    if token is None and token_file:
        try:
            token = Path(token_file).expanduser().read_text().strip()
        except OSError as exc:
            raise UsageError(f"token file {token_file}: {exc.strerror}") from None
    ca = pick("ca")
    return Connection(
        api=(pick("api") or DEFAULT_API).rstrip("/"),
        token=token or None,
        ca=str(Path(ca).expanduser()) if ca else None,
        namespace=pick("namespace") or "default",
    )
