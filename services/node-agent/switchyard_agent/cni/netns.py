"""CHECK of the pod's side: CNI_IFNAME exists in the pod's network namespace with the
addresses of the previous result (the agent checks VPP's side)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping
from typing import Any

from .spec import CniError

GENERIC = 999


def check(netns: str, ifname: str, prev_result: Mapping[str, Any]) -> None:
    command = ["nsenter", f"--net={netns}", "ip", "-j", "addr", "show", "dev", ifname]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise CniError(GENERIC, f"{ifname} is missing in {netns}", done.stderr.strip())
    try:
        rows = json.loads(done.stdout or "[]")
    except ValueError:
        rows = []
    present = {
        f"{a.get('local')}/{a.get('prefixlen')}" for row in rows for a in row.get("addr_info", [])
    }
    for entry in prev_result.get("ips") or ():
        address = str(entry.get("address", ""))
        if address not in present:
            raise CniError(GENERIC, f"{ifname} in {netns} lacks its address {address}")
