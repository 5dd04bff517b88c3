"""The host side of an emulated tap: a real kernel tap device, as VPP's tapv2 makes one.

VPP opens /dev/net/tun, names the device, moves it into the requested network namespace
under the requested name, and sets its MTU, addresses, default gateway and link up. The
device is not persistent: it lives as long as VPP holds its file descriptor, so a VPP crash
(here: the emulator's state being replaced, or its process dying) removes it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import struct
import subprocess
from dataclasses import dataclass

TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000


class KernelError(Exception):
    pass


def _ip(netns: str | None, *args: str) -> None:
    command = ["ip", *args]
    if netns is not None:
        command = ["nsenter", f"--net={_netns_path(netns)}", *command]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise KernelError(f"{' '.join(args)}: {done.stderr.strip()}")


def _netns_path(netns: str) -> str:
    """VPP's host-ns takes a name under /var/run/netns or a path (CNI_NETNS is a path)."""
    return netns if "/" in netns else f"/var/run/netns/{netns}"


@dataclass
class KernelTap:
    fd: int
    name: str
    netns: str | None

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.fd)


def create_tap(
    temp_name: str,
    name: str,
    netns: str | None,
    mtu: int | None,
    prefixes: list[str],
    gateways: list[str],
) -> KernelTap:
    """A tap device named `name` in `netns`, configured; nothing is left behind on failure."""
    if netns is not None and not os.path.exists(_netns_path(netns)):
        raise KernelError(f"network namespace {netns} does not exist")
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_CLOEXEC)
    tap = KernelTap(fd, name, netns)
    try:
        request = struct.pack("16sH", temp_name.encode(), IFF_TAP | IFF_NO_PI)
        fcntl.ioctl(fd, TUNSETIFF, request)
        if netns is not None:
            _ip(None, "link", "set", "dev", temp_name, "netns", _netns_path(netns), "name", name)
        elif temp_name != name:
            _ip(None, "link", "set", "dev", temp_name, "name", name)
        if mtu:
            _ip(netns, "link", "set", "dev", name, "mtu", str(mtu))
        for prefix in prefixes:
            _ip(netns, "addr", "add", prefix, "dev", name)
        _ip(netns, "link", "set", "dev", name, "up")
        for gateway in gateways:
            family = "-6" if ":" in gateway else "-4"
            _ip(netns, family, "route", "add", "default", "via", gateway, "dev", name)
    except (OSError, KernelError) as exc:
        tap.close()
        raise KernelError(str(exc)) from exc
    return tap
