"""Read-only `vpp-interface/<name>`: the interfaces VPP has (sw_interface_dump).

The agent never creates them (CNI, startup config and tunnels do); objects on an interface wait,
pending, until VPP reports it. Each dump also refreshes the driver's name -> sw_if_index index.
"""

from __future__ import annotations

from collections.abc import Iterable

from ...descriptors import Dumped
from .. import HOST_INTERFACE_KIND, HostInterface
from .common import VppContext, VppDescriptor


class HostInterfaceDescriptor(VppDescriptor[HostInterface]):
    kind = HOST_INTERFACE_KIND

    def __init__(self, ctx: VppContext) -> None:
        super().__init__(ctx)

    def dependencies(self, value: HostInterface) -> Iterable[str]:
        return ()

    def dump(self) -> Iterable[Dumped[HostInterface]]:
        self.ctx.interfaces.refresh()
        return [
            Dumped(HostInterface(name), owned=False) for name in sorted(self.ctx.interfaces.by_name)
        ]
