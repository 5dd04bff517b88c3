"""The emulated VPP's whole state: one object, replaced wholesale on a crash."""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass, field
from typing import Any

from .definitions import ApiDefinitions
from .handlers.acl import AclState
from .handlers.addressing import AddressState
from .handlers.cnat import CnatState
from .handlers.gre import GreState
from .handlers.interfaces import InterfaceTable
from .handlers.ip import IpState
from .handlers.lb import LbState
from .handlers.memif import MemifState
from .handlers.tap import TapState

_GENERATIONS = itertools.count()


@dataclass
class SessionState:
    next_client_index: int = 0


@dataclass
class VppState:
    api: ApiDefinitions
    # What control_ping reports: a new value for every fresh state, as a restarted VPP has a
    # new process id (drivers detect restarts by it).
    vpe_pid: int = field(default_factory=lambda: (os.getpid() * 256 + next(_GENERATIONS)) % 2**32)
    session: SessionState = field(default_factory=SessionState)
    interfaces: InterfaceTable = field(default_factory=InterfaceTable)
    cnat: CnatState = field(default_factory=CnatState)
    lb: LbState = field(default_factory=LbState)
    acl: AclState = field(default_factory=AclState)
    gre: GreState = field(default_factory=GreState)
    ip: IpState = field(default_factory=IpState)
    tap: TapState = field(default_factory=TapState)
    memif: MemifState = field(default_factory=MemifState)
    addressing: AddressState = field(default_factory=AddressState)

    def add_interface(self, name: str, dev_type: str = "virtual") -> int:
        return self.interfaces.add(name, dev_type)

    def delete_interface(self, sw_if_index: int) -> None:
        """Remove an interface and what VPP's delete callbacks clean up."""
        self.interfaces.remove(sw_if_index)
        self.acl.forget_interface(sw_if_index)
        self.cnat.forget_interface(sw_if_index)
        self.tap.forget(sw_if_index)
        self.memif.forget(sw_if_index)
        self.addressing.forget(sw_if_index)

    def close(self) -> None:
        """This VPP goes away (crash, reset, exit): release what it holds in the kernel."""
        self.tap.close()
        self.memif.close()

    def snapshot(self) -> dict[str, Any]:
        return {
            "interfaces": self.interfaces.snapshot(),
            "cnat": self.cnat.snapshot(),
            "lb": self.lb.snapshot(),
            "acl": self.acl.snapshot(),
            "gre": self.gre.snapshot(),
            "ip": self.ip.snapshot(),
            "tap": self.tap.snapshot(),
            "memif": self.memif.snapshot(),
            "addressing": self.addressing.snapshot(),
        }
