"""gre plugin: tunnels create interfaces named gre<instance>."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..convert import U32_MAX, IndexPool, jsonable, to_dict
from ..errors import IF_ALREADY_EXISTS, INVALID_VALUE, NO_SUCH_ENTRY, ApiError
from .base import Fields, Registry

if TYPE_CHECKING:
    from ..state import VppState

handles = Registry()


@dataclass
class GreState:
    tunnels: dict[int, Fields] = field(default_factory=dict)  # sw_if_index -> tunnel
    instances: IndexPool = field(default_factory=IndexPool)

    def snapshot(self) -> list[Any]:
        return [jsonable(t) for _, t in sorted(self.tunnels.items())]


def _identity(t: Fields) -> tuple[Any, ...]:
    return (
        t["type"],
        t["mode"],
        t["session_id"],
        t["outer_table_id"],
        t["src"],
        t["dst"],
        t.get("key", 0),
    )


def _add_del(state: VppState, mp: Any) -> Fields:
    gre = state.gre
    tunnel = to_dict(mp.tunnel)
    tunnel.pop("sw_if_index", None)
    found = [i for i, t in gre.tunnels.items() if _identity(t) == _identity(tunnel)]
    if not mp.is_add:
        if not found:
            raise ApiError(NO_SUCH_ENTRY, "no such tunnel")
        sw_if_index = found[0]
        gre.instances.put(gre.tunnels.pop(sw_if_index)["instance"])
        state.delete_interface(sw_if_index)
        return {"sw_if_index": sw_if_index}
    if found:
        raise ApiError(IF_ALREADY_EXISTS, "tunnel exists")
    if tunnel["src"] == tunnel["dst"] or tunnel["src"].version != tunnel["dst"].version:
        raise ApiError(INVALID_VALUE, "bad tunnel endpoints")
    instance = tunnel["instance"]
    if instance == U32_MAX:
        instance = gre.instances.get()
    elif instance in gre.instances:
        raise ApiError(IF_ALREADY_EXISTS, f"instance {instance} in use")
    else:
        gre.instances.take(instance)
    tunnel["instance"] = instance
    sw_if_index = state.interfaces.add(f"gre{instance}", "GRE")
    tunnel["sw_if_index"] = sw_if_index
    gre.tunnels[sw_if_index] = tunnel
    return {"sw_if_index": sw_if_index}


@handles("gre_tunnel_add_del")
def gre_tunnel_add_del(state: VppState, mp: Any) -> Fields:
    return _add_del(state, mp)


@handles("gre_tunnel_add_del_v2")
def gre_tunnel_add_del_v2(state: VppState, mp: Any) -> Fields:
    return _add_del(state, mp)


def _dump(state: VppState, mp: Any) -> list[Fields]:
    tunnels = state.gre.tunnels
    if mp.sw_if_index == U32_MAX:
        return [{"tunnel": t} for _, t in sorted(tunnels.items())]
    t = tunnels.get(mp.sw_if_index)
    return [{"tunnel": t}] if t else []


@handles("gre_tunnel_dump")
def gre_tunnel_dump(state: VppState, mp: Any) -> list[Fields]:
    return _dump(state, mp)


@handles("gre_tunnel_v2_dump")
def gre_tunnel_v2_dump(state: VppState, mp: Any) -> list[Fields]:
    return _dump(state, mp)
