"""Delegation to the configuration's IPAM plugin, as the CNI spec prescribes: the plugin named
by `ipam.type` is found on CNI_PATH and run with the same environment and configuration; its
result (or error object) is taken as it is."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Sequence
from typing import Any

from .spec import INVALID_CONFIG, IO_FAILURE, CniError, Invocation

IPAM_TIMEOUT = 60.0


def find_plugin(name: str, path: Sequence[str]) -> str:
    if not name or "/" in name:
        raise CniError(INVALID_CONFIG, f"ipam.type {name!r} is not a plugin name")
    for directory in path:
        candidate = os.path.join(directory, name)
        if os.access(candidate, os.X_OK):
            return candidate
    raise CniError(
        INVALID_CONFIG,
        f"IPAM plugin {name!r} not found in CNI_PATH ({':'.join(path) or 'empty'})",
    )


def delegate(command: str, config: dict[str, Any], inv: Invocation) -> dict[str, Any] | None:
    """Run the IPAM plugin for `command`; its parsed result (None when it prints nothing)."""
    ipam = config.get("ipam")
    if not isinstance(ipam, dict) or not ipam.get("type"):
        raise CniError(INVALID_CONFIG, "the configuration has no ipam.type: IPAM is required")
    plugin = find_plugin(str(ipam["type"]), inv.path)
    environ = dict(inv.environ)
    environ["CNI_COMMAND"] = command
    try:
        done = subprocess.run(
            [plugin],
            input=json.dumps(config).encode(),
            capture_output=True,
            env=environ,
            timeout=IPAM_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CniError(IO_FAILURE, f"IPAM plugin {ipam['type']} could not run: {exc}") from None
    output = done.stdout.strip()
    parsed: Any = None
    if output:
        try:
            parsed = json.loads(output)
        except ValueError:
            parsed = None
    if done.returncode != 0:
        if isinstance(parsed, dict) and "code" in parsed:
            raise CniError(
                int(parsed["code"]),
                f"IPAM plugin {ipam['type']} failed: {parsed.get('msg', '')}",
                str(parsed.get("details", "")),
            )
        stderr = done.stderr.decode(errors="replace").strip()
        raise CniError(IO_FAILURE, f"IPAM plugin {ipam['type']} failed: {stderr or output!r}")
    return parsed if isinstance(parsed, dict) else None
