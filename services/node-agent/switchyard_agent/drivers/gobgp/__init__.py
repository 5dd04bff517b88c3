"""The GoBGP driver: GoBGP's gRPC API (stubs in proto/gobgpapi) for BgpGlobal, BgpPeer and
BgpAnnouncement, and a local desired-state source of learned routes for the VPP FIB.

    driver = create_driver(DriverOptions(gobgp_api="unix:///run/gobgpd.sock"))

See docs/bgp.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .connection import DEFAULT_TARGET, GobgpConnection, grpc_target
from .driver import GobgpDriver
from .learned import LearnedRouteWatcher, learned_routes

if TYPE_CHECKING:
    from ..factory import DriverOptions

__all__ = [
    "DEFAULT_TARGET",
    "GobgpConnection",
    "GobgpDriver",
    "LearnedRouteWatcher",
    "create_driver",
    "grpc_target",
    "learned_routes",
]


def create_driver(options: DriverOptions) -> GobgpDriver:
    """The factory's entry point; never contacts gobgpd (the agent calls reconnect())."""
    grpc_target(options.gobgp_api)  # ValueError for an empty address
    return GobgpDriver(options.gobgp_api, options.state_dir)
