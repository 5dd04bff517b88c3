"""Drivers: descriptors over a dataplane (vpp, gobgp) or over memory (recording).

Shared by every driver: which NodeConfig kinds go to which dataplane, and what each object
needs first. Keeping the dependency rules here means the VPP driver, the GoBGP driver and the
recording driver cannot disagree about ordering.
"""

from __future__ import annotations

from dataclasses import dataclass

from switchyard_contract.nodeconfig import (
    Acl,
    AclBinding,
    BgpAnnouncement,
    BgpGlobal,
    BgpPeer,
    GreTunnel,
    LbGlobal,
    LbVip,
    ManagedInterface,
    NodeObject,
    Route,
    ServiceFrontend,
    SnatConfig,
)

VPP = "vpp"
GOBGP = "gobgp"

# Read-only kind: interfaces that exist in VPP (created by CNI, startup config, ...). The
# agent never creates them; its objects on an interface wait until VPP reports it.
HOST_INTERFACE_KIND = "vpp-interface"

VPP_TYPES: tuple[type[NodeObject], ...] = (
    ServiceFrontend,
    ManagedInterface,
    SnatConfig,
    LbGlobal,
    LbVip,
    GreTunnel,
    Acl,
    AclBinding,
    Route,
)
GOBGP_TYPES: tuple[type[NodeObject], ...] = (BgpGlobal, BgpPeer, BgpAnnouncement)


@dataclass(frozen=True, slots=True)
class HostInterface:
    """An interface VPP has, as its dump reports it; never owned by the agent."""

    KIND = HOST_INTERFACE_KIND
    name: str

    @property
    def key(self) -> str:
        return host_interface_key(self.name)


def host_interface_key(name: str) -> str:
    return f"{HOST_INTERFACE_KIND}/{name}"


def dependencies_of(value: NodeObject) -> tuple[str, ...]:
    """Keys that must be applied, or present in the dataplane, before `value`."""
    match value:
        case ManagedInterface(name=name):
            return (host_interface_key(name),)
        case AclBinding(interface=interface, input_acls=inputs, output_acls=outputs):
            acls = dict.fromkeys(f"{Acl.KIND}/{name}" for name in (*inputs, *outputs))
            return (f"{ManagedInterface.KIND}/{interface}", *acls)
        case LbVip():
            return (LbGlobal.KIND,)  # lb_conf (encap source) before any VIP
        case Route(next_hops=hops):
            named = dict.fromkeys(host_interface_key(h.interface) for h in hops if h.interface)
            return tuple(named)
        case BgpPeer() | BgpAnnouncement():
            return (BgpGlobal.KIND,)  # every GoBGP call fails until StartBgp
        case _:
            return ()
