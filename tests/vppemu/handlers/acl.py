"""acl plugin: ACLs in a pool (lowest free index), per-interface input/output
lists, and the plugin's refusal to delete an ACL that is applied."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..convert import U32_MAX, IndexPool, jsonable, to_dict
from ..errors import (
    ACL_IN_USE_INBOUND,
    ACL_IN_USE_OUTBOUND,
    ENTRY_ALREADY_EXISTS,
    INVALID_VALUE_2,
    NO_SUCH_ENTRY,
    ApiError,
)
from .base import Fields, Registry

if TYPE_CHECKING:
    from ..state import VppState

handles = Registry()


@dataclass
class Acl:
    index: int
    tag: str
    rules: list[Fields]


@dataclass
class AclState:
    acls: dict[int, Acl] = field(default_factory=dict)
    pool: IndexPool = field(default_factory=IndexPool)
    inputs: dict[int, list[int]] = field(default_factory=dict)
    outputs: dict[int, list[int]] = field(default_factory=dict)

    def forget_interface(self, sw_if_index: int) -> None:
        self.inputs.pop(sw_if_index, None)
        self.outputs.pop(sw_if_index, None)

    def snapshot(self) -> Fields:
        return {
            "acls": [
                {"acl_index": a.index, "tag": a.tag, "rules": jsonable(a.rules)}
                for _, a in sorted(self.acls.items())
            ],
            "interfaces": [
                {
                    "sw_if_index": i,
                    "input": self.inputs.get(i, []),
                    "output": self.outputs.get(i, []),
                }
                for i in sorted(set(self.inputs) | set(self.outputs))
                if self.inputs.get(i) or self.outputs.get(i)
            ],
        }


@handles("acl_add_replace")
def acl_add_replace(state: VppState, mp: Any) -> Fields:
    acl = state.acl
    for r in mp.r:
        if r.srcport_or_icmptype_first > r.srcport_or_icmptype_last:
            raise ApiError(INVALID_VALUE_2, "source port range")
        if r.dstport_or_icmpcode_first > r.dstport_or_icmpcode_last:
            raise ApiError(INVALID_VALUE_2, "destination port range")
    rules = [to_dict(r) for r in mp.r]
    if mp.acl_index == U32_MAX:
        index = acl.pool.get()
        acl.acls[index] = Acl(index, mp.tag, rules)
        return {"acl_index": index}
    existing = acl.acls.get(mp.acl_index)
    if existing is None:
        raise ApiError(NO_SUCH_ENTRY, f"ACL {mp.acl_index}")
    existing.tag = mp.tag
    existing.rules = rules
    return {"acl_index": mp.acl_index}


@handles("acl_del")
def acl_del(state: VppState, mp: Any) -> Fields:
    acl = state.acl
    if mp.acl_index not in acl.acls:
        raise ApiError(NO_SUCH_ENTRY, f"ACL {mp.acl_index}")
    if any(mp.acl_index in lst for lst in acl.inputs.values()):
        raise ApiError(ACL_IN_USE_INBOUND, "ACL applied on input")
    if any(mp.acl_index in lst for lst in acl.outputs.values()):
        raise ApiError(ACL_IN_USE_OUTBOUND, "ACL applied on output")
    del acl.acls[mp.acl_index]
    acl.pool.put(mp.acl_index)
    return {}


@handles("acl_interface_set_acl_list")
def acl_interface_set_acl_list(state: VppState, mp: Any) -> Fields:
    state.interfaces.validate(mp.sw_if_index)
    acl = state.acl
    acls = list(mp.acls)
    n_input = min(mp.n_input, len(acls))
    inputs, outputs = acls[:n_input], acls[n_input:]
    for lst in (inputs, outputs):
        for index in lst:
            if index not in acl.acls:
                raise ApiError(NO_SUCH_ENTRY, f"ACL {index} not defined")
        if len(set(lst)) != len(lst):
            raise ApiError(ENTRY_ALREADY_EXISTS, "ACL applied twice in one direction")
    acl.inputs[mp.sw_if_index] = inputs
    acl.outputs[mp.sw_if_index] = outputs
    return {}


@handles("acl_interface_add_del")
def acl_interface_add_del(state: VppState, mp: Any) -> Fields:
    state.interfaces.validate(mp.sw_if_index)
    acl = state.acl
    table = acl.inputs if mp.is_input else acl.outputs
    current = table.get(mp.sw_if_index, [])
    if mp.is_add:
        if mp.acl_index not in acl.acls:
            raise ApiError(NO_SUCH_ENTRY, f"ACL {mp.acl_index} not defined")
        if mp.acl_index in current:
            raise ApiError(ACL_IN_USE_INBOUND if mp.is_input else ACL_IN_USE_OUTBOUND)
        table[mp.sw_if_index] = [*current, mp.acl_index]
    else:
        if mp.acl_index not in current:
            raise ApiError(NO_SUCH_ENTRY, f"ACL {mp.acl_index} not applied")
        table[mp.sw_if_index] = [i for i in current if i != mp.acl_index]
    return {}


def _acl_details(a: Acl) -> Fields:
    return {"acl_index": a.index, "tag": a.tag, "count": len(a.rules), "r": a.rules}


@handles("acl_dump")
def acl_dump(state: VppState, mp: Any) -> list[Fields]:
    acls = state.acl.acls
    if mp.acl_index == U32_MAX:
        return [_acl_details(a) for _, a in sorted(acls.items())]
    a = acls.get(mp.acl_index)
    return [_acl_details(a)] if a else []


def _if_details(state: VppState, sw_if_index: int) -> Fields:
    inputs = state.acl.inputs.get(sw_if_index, [])
    outputs = state.acl.outputs.get(sw_if_index, [])
    acls = inputs + outputs
    return {"sw_if_index": sw_if_index, "count": len(acls), "n_input": len(inputs), "acls": acls}


@handles("acl_interface_list_dump")
def acl_interface_list_dump(state: VppState, mp: Any) -> list[Fields]:
    # Like VPP: one details message per existing interface, empty lists included.
    if mp.sw_if_index == U32_MAX:
        return [_if_details(state, i) for i in sorted(state.interfaces.by_index)]
    if mp.sw_if_index in state.interfaces.by_index:
        return [_if_details(state, mp.sw_if_index)]
    return []
