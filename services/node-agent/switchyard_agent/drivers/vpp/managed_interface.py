"""ManagedInterface -> the cnat feature on the interface (`feature_cnat_enable_disable`), and
for pod interfaces membership of the SNAT tables INCLUDE_V4 (0), INCLUDE_V6 (1) and POD (2)
(`cnat_snat_policy_add_del_if`), as notes/vpp-cnat.md prescribes.

VPP has no dump of either, so what was enabled is recorded (with the interface's sw_if_index)
and trusted only for the VPP process it was done on (see VppContext.check_epoch): after a VPP
restart, or if the interface was re-created under another index, it is applied again.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from switchyard_contract.nodeconfig import ManagedInterface

from ...descriptors import Dumped
from .common import VppDescriptor
from .connection import VppApiError

KIND = ManagedInterface.KIND
POD_TABLES = (0, 1, 2)  # CNAT_POLICY_INCLUDE_V4, CNAT_POLICY_INCLUDE_V6, CNAT_POLICY_POD


class ManagedInterfaceDescriptor(VppDescriptor[ManagedInterface]):
    kind = KIND

    def can_update(self, old: ManagedInterface, new: ManagedInterface) -> bool:
        return True

    def create(self, value: ManagedInterface) -> object:
        self.ctx.check_epoch()
        index = self.ctx.interfaces.index_of(value.name)
        self.conn.call("feature_cnat_enable_disable", sw_if_index=index, enable_disable=True)
        if value.role == "pod":
            self._tables(index, add=True)
        self._record(value, index)
        return index

    def update(self, old: ManagedInterface, new: ManagedInterface, metadata: object) -> object:
        self.ctx.check_epoch()
        index = self.ctx.interfaces.index_of(new.name)
        if index != metadata:  # another interface under the same name: start over
            return self.create(new)
        if old.role != new.role:
            self._tables(index, add=new.role == "pod")
        self._record(new, index)
        return index

    def delete(self, value: ManagedInterface, metadata: object) -> None:
        self.ctx.check_epoch()
        self.ctx.interfaces.refresh()
        index = self.ctx.interfaces.by_name.get(value.name)
        if index is not None and index == metadata:
            try:
                if value.role == "pod":
                    self._tables(index, add=False)
                self.conn.call(
                    "feature_cnat_enable_disable", sw_if_index=index, enable_disable=False
                )
            except VppApiError as exc:
                if exc.retval != -2:  # INVALID_SW_IF_INDEX: the interface went meanwhile
                    raise
        self.store.delete(KIND, value.key)

    def _tables(self, index: int, add: bool) -> None:
        for table in POD_TABLES:
            self.conn.call(
                "cnat_snat_policy_add_del_if", sw_if_index=index, is_add=int(add), table=table
            )

    def _record(self, value: ManagedInterface, index: int) -> None:
        record: dict[str, Any] = {"name": value.name, "role": value.role, "sw_if_index": index}
        self.store.put(KIND, value.key, record)

    def dump(self) -> Iterable[Dumped[ManagedInterface]]:
        self.ctx.check_epoch()
        self.ctx.interfaces.refresh()
        out: list[Dumped[ManagedInterface]] = []
        for key, record in self.store.items(KIND):
            index = self.ctx.interfaces.by_name.get(record["name"])
            if index != record["sw_if_index"]:
                self.store.delete(KIND, key)  # the interface is gone (or is another one now)
                continue
            value = ManagedInterface(record["name"], record["role"])
            out.append(Dumped(value, True, index))
        return out
