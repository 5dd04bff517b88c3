"""The VPP driver: vpp_papi over VPP's API socket, one descriptor module per object kind.

    conn = VppConnection(os.environ.get(SOCKET_ENV, DEFAULT_SOCKET))
    conn.connect()                      # IncompatibleVppError: refuse to start
    descriptors = vpp_descriptors(conn, "/var/lib/switchyard-agent")

See docs/vpp-driver.md.
"""

from __future__ import annotations

from .connection import (
    DEFAULT_API_DIR,
    DEFAULT_SOCKET,
    SOCKET_ENV,
    IncompatibleVppError,
    VppApiError,
    VppConnection,
)
from .driver import VppDriver, vpp_descriptors
from .events import InterfaceEvents

__all__ = [
    "DEFAULT_API_DIR",
    "DEFAULT_SOCKET",
    "SOCKET_ENV",
    "IncompatibleVppError",
    "InterfaceEvents",
    "VppApiError",
    "VppConnection",
    "VppDriver",
    "vpp_descriptors",
]
