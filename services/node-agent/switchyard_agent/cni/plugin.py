"""`switchyard-cni`: a CNI 1.0.0 plugin (ADD, DEL, CHECK, VERSION; STATUS of 1.1.0).

The runtime runs it with the CNI_* environment and the network configuration on stdin. IPAM is
delegated to the configuration's `ipam` plugin (e.g. host-local); the local switchyard agent,
which owns the only VPP connection, makes the pod's VPP interface. The result, or the spec's
error object, goes to stdout; the exit status is 0 on success, 1 on error.
"""

from __future__ import annotations

import ipaddress
import json
import sys
import urllib.parse
from collections.abc import Mapping
from typing import IO, Any

from ..attachments.paths import DEFAULT_SOCKET
from . import client, ipam, netns
from .spec import (
    CNI_VERSION,
    INVALID_CONFIG,
    PLUGIN_NOT_AVAILABLE,
    SUPPORTED_VERSIONS,
    CniError,
    Invocation,
    invocation,
    parse_config,
)

MODE_ARG = "SWITCHYARD_INTERFACE_MODE"  # CNI_ARGS override of the configuration's mode


def _socket(config: Mapping[str, Any]) -> str:
    return str(config.get("agentSocket") or DEFAULT_SOCKET)


def _attachment_path(inv: Invocation) -> str:
    quote = urllib.parse.quote
    return f"/v1/attachments/{quote(inv.container_id, safe='')}/{quote(inv.ifname, safe='')}"


def _mode(config: Mapping[str, Any], inv: Invocation) -> str:
    mode = inv.args.get(MODE_ARG) or str(config.get("mode") or "tap")
    if mode not in ("tap", "memif"):
        raise CniError(INVALID_CONFIG, f"mode {mode!r}: use tap or memif")
    return mode


def _addresses(ipam_result: Mapping[str, Any]) -> list[dict[str, Any]]:
    addresses = []
    for entry in ipam_result.get("ips") or ():
        address = str(entry.get("address", ""))
        try:
            ipaddress.ip_interface(address)
        except ValueError:
            raise CniError(INVALID_CONFIG, f"IPAM returned a bad address {address!r}") from None
        addresses.append({"address": address, "gateway": entry.get("gateway")})
    if not addresses:
        raise CniError(INVALID_CONFIG, "IPAM returned no address for the pod")
    return addresses


def _agent_error(status: int, body: Mapping[str, Any]) -> CniError:
    return CniError(
        int(body.get("code") or 999),
        str(body.get("msg") or f"the agent answered HTTP {status}"),
        str(body.get("details") or ""),
    )


def _result(
    config: Mapping[str, Any], inv: Invocation, ipam_result: Mapping[str, Any], reply: Any
) -> dict[str, Any]:
    interface: dict[str, Any] = {"name": inv.ifname}
    if reply.get("mode") == "memif":
        interface["socketPath"] = reply.get("memifSocket", "")
    else:
        interface["sandbox"] = inv.netns
    ips = [
        {k: v for k, v in {**entry, "interface": 0}.items() if v is not None}
        for entry in ipam_result.get("ips") or ()
    ]
    routes = list(ipam_result.get("routes") or ())
    if reply.get("mode") != "memif":
        for entry in ips:
            family = ipaddress.ip_interface(entry["address"]).version
            dst = "0.0.0.0/0" if family == 4 else "::/0"
            if entry.get("gateway") and not any(r.get("dst") == dst for r in routes):
                routes.append({"dst": dst, "gw": entry["gateway"]})
    result: dict[str, Any] = {
        "cniVersion": config["cniVersion"],
        "interfaces": [interface],
        "ips": ips,
        "routes": routes,
    }
    if ipam_result.get("dns"):
        result["dns"] = ipam_result["dns"]
    return result


def cmd_add(config: dict[str, Any], inv: Invocation) -> dict[str, Any]:
    status, known = client.call(_socket(config), "GET", _attachment_path(inv) + "?verify=false")
    if status == 200 and known.get("netns") == inv.netns:
        # Already attached (a runtime retrying): the same result, no second allocation.
        return _result(config, inv, known.get("ipamResult") or {}, known)
    ipam_result = ipam.delegate("ADD", config, inv) or {}
    try:
        request = {
            "containerID": inv.container_id,
            "ifName": inv.ifname,
            "netns": inv.netns,
            "podNamespace": inv.args.get("K8S_POD_NAMESPACE", ""),
            "podName": inv.args.get("K8S_POD_NAME", ""),
            "mode": _mode(config, inv),
            "mtu": int(config.get("mtu") or 0),
            "addresses": _addresses(ipam_result),
            "unnumberedInterface": str(config.get("unnumberedInterface") or ""),
            "ipamResult": ipam_result,
        }
        if config.get("memifSocketDir"):
            request["memifSocketDir"] = str(config["memifSocketDir"])
        status, reply = client.call(_socket(config), "POST", "/v1/attachments", request)
        if status != 200:
            raise _agent_error(status, reply)
    except (CniError, ValueError, TypeError) as exc:
        _release(config, inv)  # a failed ADD leaves no address allocated
        if isinstance(exc, CniError):
            raise
        raise CniError(INVALID_CONFIG, f"bad network configuration: {exc}") from None
    return _result(config, inv, ipam_result, reply)


def _release(config: dict[str, Any], inv: Invocation) -> None:
    try:
        ipam.delegate("DEL", config, inv)
    except CniError as exc:
        print(f"switchyard-cni: releasing the address failed: {exc.msg}", file=sys.stderr)


def cmd_del(config: dict[str, Any], inv: Invocation) -> None:
    # The VPP side first, then the address: DEL succeeds for unknown or half-made attachments.
    status, reply = client.call(_socket(config), "DELETE", _attachment_path(inv))
    if status != 200:
        raise _agent_error(status, reply)
    ipam.delegate("DEL", config, inv)


def cmd_check(config: dict[str, Any], inv: Invocation) -> None:
    if "prevResult" not in config:
        raise CniError(INVALID_CONFIG, "CHECK needs prevResult in the configuration")
    ipam.delegate("CHECK", config, inv)
    status, reply = client.call(_socket(config), "GET", _attachment_path(inv))
    if status != 200:
        raise _agent_error(status, reply)
    if reply.get("mode") != "memif":  # the agent checked VPP; the pod's side is checked here
        netns.check(inv.netns, inv.ifname, config["prevResult"])


def cmd_status(config: dict[str, Any]) -> None:
    try:
        client.call(_socket(config), "GET", "/v1/attachments/-/-", timeout=5.0)
    except CniError as exc:
        raise CniError(PLUGIN_NOT_AVAILABLE, exc.msg) from None


def run(environ: Mapping[str, str], stdin: IO[bytes], stdout: IO[str]) -> int:
    version = CNI_VERSION
    try:
        inv = invocation(environ)
        if inv.command == "VERSION":
            supported = {"cniVersion": CNI_VERSION, "supportedVersions": list(SUPPORTED_VERSIONS)}
            json.dump(supported, stdout)
            return 0
        config = parse_config(stdin.read())
        version = str(config["cniVersion"])
        if inv.command == "ADD":
            json.dump(cmd_add(config, inv), stdout)
        elif inv.command == "DEL":
            cmd_del(config, inv)
        elif inv.command == "CHECK":
            cmd_check(config, inv)
        elif inv.command == "STATUS":
            cmd_status(config)
        else:
            raise CniError(4, f"CNI_COMMAND {inv.command!r} is not supported")
        return 0
    except CniError as exc:
        json.dump(exc.to_json(version), stdout)
        return 1


def main() -> int:
    import os

    # A runtime runs the plugin without arguments; `switchyard-cni install ...` puts it on a host.
    if sys.argv[1:2] == ["install"]:
        from .install import main as install

        return install(sys.argv[2:])
    return run(os.environ, sys.stdin.buffer, sys.stdout)
