"""The VPP driver: one descriptor per NodeConfig kind that VPP renders, over one connection."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from switchyard_contract.nodeconfig import ServiceFrontend

from ...descriptors import Descriptor, kind_of
from .acl import AclDescriptor
from .acl_binding import AclBindingDescriptor
from .common import InterfaceIndex, VppContext
from .connection import VppConnection
from .frontend import FrontendDescriptor
from .gre import GreDescriptor
from .interfaces import HostInterfaceDescriptor
from .lb_global import LbGlobalDescriptor
from .lb_vip import LbVipDescriptor
from .managed_interface import ManagedInterfaceDescriptor
from .pod_memif import PodMemifDescriptor
from .pod_tap import PodTapDescriptor
from .route import RouteDescriptor
from .snat import SnatDescriptor
from .state import StateStore


class VppDriver:
    """The descriptors plus the bulk path (`prefetch`) for the agent."""

    def __init__(
        self,
        connection: VppConnection,
        state_dir: Path | str,
        allow_ipv6_frontends: bool = False,
    ) -> None:
        self.connection = connection
        self.store = StateStore.in_dir(state_dir)
        self.ctx = VppContext(
            conn=connection,
            store=self.store,
            interfaces=InterfaceIndex(connection),
            allow_ipv6_frontends=allow_ipv6_frontends,
        )
        self.frontends = FrontendDescriptor(self.ctx)
        # Dump order matters a little: interfaces and ACLs first refresh the indices that
        # later kinds translate names with.
        self.descriptors: list[Descriptor[Any]] = [
            HostInterfaceDescriptor(self.ctx),
            PodTapDescriptor(self.ctx),
            PodMemifDescriptor(self.ctx),
            ManagedInterfaceDescriptor(self.ctx),
            SnatDescriptor(self.ctx),
            self.frontends,
            LbGlobalDescriptor(self.ctx),
            LbVipDescriptor(self.ctx),
            GreDescriptor(self.ctx),
            AclDescriptor(self.ctx),
            AclBindingDescriptor(self.ctx),
            RouteDescriptor(self.ctx),
        ]

    def prefetch(
        self,
        upserts: Mapping[str, object] | Iterable[object],
        removals: Iterable[str] = (),
        *,
        snapshot: bool = False,
    ) -> int:
        """Optional, before `reconciler.apply_snapshot/apply_delta` with the same values:
        pipeline the service-frontend calls it is about to make (one round trip per call
        otherwise). With snapshot=True every recorded frontend missing from `upserts` is
        removed. Returns the number of requests sent. Per-object results, errors included,
        are handed to the reconciler's create/update/delete calls."""
        values = list(upserts.values()) if isinstance(upserts, Mapping) else list(upserts)
        frontends = [v for v in values if isinstance(v, ServiceFrontend)]
        gone = [k for k in removals if kind_of(k) == ServiceFrontend.KIND]
        if snapshot:
            wanted = {v.key for v in frontends}
            gone += [k for k in self.store.keys(ServiceFrontend.KIND) if k not in wanted]
        return self.frontends.prefetch(frontends, gone)

    def close(self) -> None:
        self.store.close()


def vpp_descriptors(
    connection: VppConnection,
    state_dir: Path | str,
    allow_ipv6_frontends: bool = False,
) -> list[Descriptor[Any]]:
    """The VPP descriptors, for the agent to register alongside the GoBGP ones."""
    return VppDriver(connection, state_dir, allow_ipv6_frontends).descriptors
