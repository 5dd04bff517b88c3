"""The local desired objects a pod attachment puts into the reconciler: one per VPP object
kind (`pod-tap`, `pod-memif`), driven by the VPP driver's descriptors like any other kind.

They are the node's own desired state (not the controller's): they come from CNI requests,
are kept in the attachment store and are re-published at every agent start.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..drivers import host_interface_key

TAP_KIND = "pod-tap"
MEMIF_KIND = "pod-memif"
TAG_PREFIX = "switchyard-cni:"


@dataclass(frozen=True, slots=True)
class PodTap:
    """A tap whose host side is `ifname` in the pod's network namespace."""

    KIND = TAP_KIND
    container_id: str
    ifname: str
    tap_id: int
    netns: str
    mtu: int
    prefixes: tuple[str, ...]  # the pod's addresses, e.g. 10.1.1.5/24
    gateways: tuple[str, ...]  # the pod's default gateways (one per family)
    unnumbered_to: str = ""  # VPP interface whose addresses the tap borrows

    @property
    def key(self) -> str:
        return f"{TAP_KIND}/{self.container_id}/{self.ifname}"

    @property
    def vpp_name(self) -> str:
        return f"tap{self.tap_id}"

    @property
    def tag(self) -> str:
        return f"{TAG_PREFIX}{self.container_id[:32]}/{self.ifname}"

    def provides(self) -> tuple[str, ...]:
        return (host_interface_key(self.vpp_name),)


@dataclass(frozen=True, slots=True)
class PodMemif:
    """A memif (VPP is master) on a socket of its own, for the pod's own VPP/DPDK stack."""

    KIND = MEMIF_KIND
    container_id: str
    ifname: str
    socket_id: int
    socket_path: str
    prefixes: tuple[str, ...]
    unnumbered_to: str = ""

    @property
    def key(self) -> str:
        return f"{MEMIF_KIND}/{self.container_id}/{self.ifname}"

    @property
    def vpp_name(self) -> str:
        return f"memif{self.socket_id}/0"

    @property
    def tag(self) -> str:
        return f"{TAG_PREFIX}{self.container_id[:32]}/{self.ifname}"

    def provides(self) -> tuple[str, ...]:
        return (host_interface_key(self.vpp_name),)


PodInterface = PodTap | PodMemif
