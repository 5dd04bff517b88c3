"""AclBinding -> an interface's input and output ACL lists (`acl_interface_set_acl_list`,
input first), as a whole; deleting sets empty lists.

A binding waits (pending) until its interface is managed, which waits for VPP to report the
interface. Bindings are ours when recorded; ACLs in a list that are not ours show up as
"#<index>", so a foreign list never looks like a desired one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from switchyard_contract.nodeconfig import AclBinding

from ...descriptors import Dumped, PermanentError
from .acl import name_of
from .common import U32_MAX, VppDescriptor
from .connection import VppApiError

KIND = AclBinding.KIND


class AclBindingDescriptor(VppDescriptor[AclBinding]):
    kind = KIND

    def can_update(self, old: AclBinding, new: AclBinding) -> bool:
        return True

    def create(self, value: AclBinding) -> object:
        return self._set(value)

    def update(self, old: AclBinding, new: AclBinding, metadata: object) -> object:
        return self._set(new)

    def _set(self, value: AclBinding) -> object:
        index = self.ctx.interfaces.index_of(value.interface)
        acls = [self._acl(n) for n in value.input_acls] + [self._acl(n) for n in value.output_acls]
        self.store.put(KIND, value.key, True)
        self.conn.call(
            "acl_interface_set_acl_list",
            sw_if_index=index,
            count=len(acls),
            n_input=len(value.input_acls),
            acls=acls,
        )
        return index

    def _acl(self, name: str) -> int:
        index = self.ctx.acl_indices.get(name)
        if index is None:
            self._refresh_acls()
            index = self.ctx.acl_indices.get(name)
        if index is None:
            raise PermanentError(f"ACL {name} is not in VPP")
        return index

    def _refresh_acls(self) -> dict[int, str]:
        names: dict[int, str] = {}
        indices: dict[str, int] = {}
        for row in self.conn.dump("acl_dump", acl_index=U32_MAX):
            name = name_of(str(row.tag))
            if name is not None and name not in indices:
                indices[name] = int(row.acl_index)
                names[int(row.acl_index)] = name
        self.ctx.acl_indices = indices
        return names

    def delete(self, value: AclBinding, metadata: object) -> None:
        self.ctx.interfaces.refresh()
        index = self.ctx.interfaces.by_name.get(value.interface)
        if index is not None:
            try:
                self.conn.call(
                    "acl_interface_set_acl_list", sw_if_index=index, count=0, n_input=0, acls=[]
                )
            except VppApiError as exc:
                if exc.retval != -2:  # the interface went meanwhile, and its lists with it
                    raise
        self.store.delete(KIND, value.key)

    def dump(self) -> Iterable[Dumped[AclBinding]]:
        names = self._refresh_acls()
        self.ctx.interfaces.refresh()
        out: list[Dumped[AclBinding]] = []
        seen: set[str] = set()
        for row in self.conn.dump("acl_interface_list_dump", sw_if_index=U32_MAX):
            interface = self.ctx.interfaces.by_index.get(int(row.sw_if_index))
            if interface is None:
                continue
            acls: list[Any] = list(row.acls)[: int(row.count)]
            labels = [names.get(int(i), f"#{int(i)}") for i in acls]
            n_input = int(row.n_input)
            value = AclBinding(interface, tuple(labels[:n_input]), tuple(labels[n_input:]))
            owned = self.store.get(KIND, value.key) is not None
            if not acls and not owned:
                continue  # VPP lists every interface, with empty lists
            if owned:
                seen.add(value.key)
            out.append(Dumped(value, owned=owned, metadata=int(row.sw_if_index)))
        for key in self.store.keys(KIND):
            if key not in seen:
                self.store.delete(KIND, key)  # its interface is gone, and the lists with it
        return out
