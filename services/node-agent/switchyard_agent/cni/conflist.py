"""The node's CNI network configuration: a conflist whose switchyard-cni entry allocates pod
addresses from the node's own pod CIDR(s) with host-local (standard library only)."""

from __future__ import annotations

import copy
import ipaddress
import json
from collections.abc import Sequence
from typing import Any

from ..attachments.paths import DEFAULT_MEMIF_DIR, DEFAULT_SOCKET

PLUGIN_TYPE = "switchyard-cni"

# deploy/cni/10-switchyard.conflist is this, rendered for 10.1.1.0/24 (a test holds them equal).
DEFAULT_TEMPLATE: dict[str, Any] = {
    "cniVersion": "1.0.0",
    "name": "switchyard",
    "plugins": [
        {
            "type": PLUGIN_TYPE,
            "agentSocket": DEFAULT_SOCKET,
            "mode": "tap",
            "mtu": 1450,
            "unnumberedInterface": "loop0",
            "memifSocketDir": DEFAULT_MEMIF_DIR,
            "ipam": {"type": "host-local", "ranges": [], "dataDir": "/var/lib/cni/networks"},
        }
    ],
}


class ConflistError(ValueError):
    """Bad pod CIDRs or template: the message is the one line the installer prints."""


def pod_cidrs(values: Sequence[str], source: str) -> list[str]:
    """The node's pod CIDRs, validated: one or two networks (no host bits), one per family,
    each with room for a gateway and a pod. `source` names where they came from."""
    if not values:
        raise ConflistError(f"{source}: no pod CIDR")
    if len(values) > 2:
        raise ConflistError(f"{source}: at most two pod CIDRs (one per family), got {len(values)}")
    networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    for value in values:
        try:
            network = ipaddress.ip_network(str(value).strip(), strict=True)
        except ValueError as exc:
            raise ConflistError(f"{source}: {value!r} is not a CIDR ({exc})") from None
        if network.num_addresses < 4:  # network, gateway, one pod, (IPv4) broadcast
            raise ConflistError(f"{source}: {network} is too small for pods")
        networks.append(network)
    if len({n.version for n in networks}) != len(networks):
        raise ConflistError(f"{source}: two pod CIDRs of the same family: {', '.join(values)}")
    return [str(n) for n in networks]


def _plugin_entry(template: dict[str, Any]) -> dict[str, Any]:
    plugins = template.get("plugins")
    if not isinstance(plugins, list):
        raise ConflistError("the template is not a conflist: it has no plugins list")
    entries = [p for p in plugins if isinstance(p, dict) and p.get("type") == PLUGIN_TYPE]
    if len(entries) != 1:
        raise ConflistError(f"the template needs exactly one plugin of type {PLUGIN_TYPE}")
    ipam = entries[0].get("ipam")
    if not isinstance(ipam, dict) or ipam.get("type") != "host-local":
        raise ConflistError(f"the template's {PLUGIN_TYPE} entry needs ipam of type host-local")
    return entries[0]


def render(cidrs: Sequence[str], template: dict[str, Any] | None = None) -> bytes:
    """The conflist's bytes: the template with host-local `ranges`, one range set per CIDR
    (dual stack: a pod gets one address of each), the gateway being the CIDR's first address
    (what the pods' unnumbered loopback in VPP must hold). Same inputs, same bytes."""
    conflist = copy.deepcopy(DEFAULT_TEMPLATE if template is None else template)
    for key in ("cniVersion", "name"):
        if not isinstance(conflist.get(key), str) or not conflist[key]:
            raise ConflistError(f"the template has no {key}")
    entry = _plugin_entry(conflist)
    ranges = []
    for cidr in cidrs:
        network = ipaddress.ip_network(cidr)
        ranges.append([{"subnet": str(network), "gateway": str(network.network_address + 1)}])
    entry["ipam"]["ranges"] = ranges
    return (json.dumps(conflist, indent=2) + "\n").encode()


def load_template(text: str, source: str) -> dict[str, Any]:
    try:
        template = json.loads(text)
    except ValueError as exc:
        raise ConflistError(f"{source}: not JSON ({exc})") from None
    if not isinstance(template, dict):
        raise ConflistError(f"{source}: not a JSON object")
    _plugin_entry(template)
    return template
