"""The parts of the CNI specification (1.0.0) the plugin needs: error objects and codes, the
CNI_* environment, the network configuration on stdin."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SUPPORTED_VERSIONS = ("0.3.0", "0.3.1", "0.4.0", "1.0.0")
CNI_VERSION = "1.0.0"

# The spec's well-known error codes.
INCOMPATIBLE_VERSION = 1
UNSUPPORTED_FIELD = 2
UNKNOWN_CONTAINER = 3
INVALID_ENVIRONMENT = 4
IO_FAILURE = 5
DECODE_FAILURE = 6
INVALID_CONFIG = 7
TRY_AGAIN_LATER = 11
PLUGIN_NOT_AVAILABLE = 50  # STATUS (1.1)


class CniError(Exception):
    """An error the plugin reports as the spec's error object on stdout."""

    def __init__(self, code: int, msg: str, details: str = "") -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg
        self.details = details

    def to_json(self, version: str) -> dict[str, Any]:
        body: dict[str, Any] = {"cniVersion": version, "code": self.code, "msg": self.msg}
        if self.details:
            body["details"] = self.details
        return body


@dataclass(frozen=True, slots=True)
class Invocation:
    command: str
    container_id: str
    netns: str
    ifname: str
    args: Mapping[str, str]  # CNI_ARGS, e.g. K8S_POD_NAMESPACE
    path: tuple[str, ...]  # CNI_PATH: where delegated plugins (IPAM) are found
    environ: Mapping[str, str]


def parse_args(raw: str) -> dict[str, str]:
    """CNI_ARGS: "K1=V1;K2=V2"."""
    out: dict[str, str] = {}
    for part in raw.split(";"):
        if not part:
            continue
        key, sep, value = part.partition("=")
        if not sep or not key:
            raise CniError(INVALID_ENVIRONMENT, f"CNI_ARGS: {part!r} is not KEY=VALUE")
        out[key] = value
    return out


def invocation(environ: Mapping[str, str]) -> Invocation:
    command = environ.get("CNI_COMMAND", "")
    if not command:
        raise CniError(INVALID_ENVIRONMENT, "CNI_COMMAND is not set")
    needs = {
        "ADD": ("CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_PATH"),
        "CHECK": ("CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_PATH"),
        "DEL": ("CNI_CONTAINERID", "CNI_IFNAME"),
    }.get(command, ())
    missing = [name for name in needs if not environ.get(name)]
    if missing:
        raise CniError(INVALID_ENVIRONMENT, f"{command} needs {', '.join(missing)} to be set")
    return Invocation(
        command=command,
        container_id=environ.get("CNI_CONTAINERID", ""),
        netns=environ.get("CNI_NETNS", ""),
        ifname=environ.get("CNI_IFNAME", ""),
        args=parse_args(environ.get("CNI_ARGS", "")),
        path=tuple(p for p in environ.get("CNI_PATH", "").split(os.pathsep) if p),
        environ=environ,
    )


def parse_config(raw: bytes) -> dict[str, Any]:
    try:
        config = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CniError(DECODE_FAILURE, f"the network configuration is not JSON: {exc}") from None
    if not isinstance(config, dict):
        raise CniError(DECODE_FAILURE, "the network configuration must be a JSON object")
    version = config.get("cniVersion", "")
    if version not in SUPPORTED_VERSIONS:
        raise CniError(
            INCOMPATIBLE_VERSION,
            f"cniVersion {version!r} is not supported; supported: {', '.join(SUPPORTED_VERSIONS)}",
        )
    return config
