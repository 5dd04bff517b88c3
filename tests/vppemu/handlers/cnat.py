"""cnat plugin: translations (upsert by VIP), SNAT settings and per-interface
feature, with the quirks of VPP 26.10 (see shared/notes/vpp-cnat.md)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..convert import U32_MAX, IndexPool, jsonable, to_dict
from ..errors import INVALID_VALUE, NO_SUCH_ENTRY, ApiError, VppCrash
from .base import Fields, Registry

if TYPE_CHECKING:
    from ..state import VppState

# Internal tracker flag that leaks into the dumped path flags (CNAT_TRK_ACTIVE).
TRK_ACTIVE = 1 << 2
N_SNAT_TABLES = 4  # include v4, include v6, pod, host

handles = Registry()


@dataclass
class Translation:
    id: int
    vip: Any  # decoded request values (immutable namedtuples), as programmed
    ip_proto: int
    paths: list[Any]
    # Remembered as programmed; the dump does not report them.
    is_real_ip: int
    flags: int
    lb_type: int
    flow_hash_config: int
    key: tuple[Any, ...] = field(repr=False, default=())

    def details(self) -> Fields:
        paths = [to_dict(p) for p in self.paths]
        for p in paths:
            p["flags"] = int(p["flags"]) | TRK_ACTIVE
        return {
            "translation": {
                "vip": to_dict(self.vip),
                "id": self.id,
                "ip_proto": self.ip_proto,
                "is_real_ip": 0,
                "flags": 0,
                "lb_type": self.lb_type,
                "n_paths": len(paths),
                "flow_hash_config": 0,
                "paths": paths,
            }
        }


@dataclass
class CnatState:
    translations: dict[int, Translation] = field(default_factory=dict)
    by_key: dict[tuple[Any, ...], int] = field(default_factory=dict)
    pool: IndexPool = field(default_factory=IndexPool)
    snat: Fields = field(default_factory=dict)
    snat_policy: int = 0
    snat_if_tables: list[set[int]] = field(
        default_factory=lambda: [set() for _ in range(N_SNAT_TABLES)]
    )
    exclude_prefixes: set[ipaddress.IPv4Network | ipaddress.IPv6Network] = field(
        default_factory=set
    )
    feature_interfaces: set[int] = field(default_factory=set)

    def forget_interface(self, sw_if_index: int) -> None:
        self.feature_interfaces.discard(sw_if_index)
        for table in self.snat_if_tables:
            table.discard(sw_if_index)

    def snapshot(self) -> Fields:
        return {
            "translations": [
                jsonable({k: v for k, v in t.__dict__.items() if k != "key"})
                for _, t in sorted(self.translations.items())
            ],
            "snat": jsonable(self.snat),
            "snat_policy": self.snat_policy,
            "snat_if_tables": [sorted(t) for t in self.snat_if_tables],
            "exclude_prefixes": sorted(str(p) for p in self.exclude_prefixes),
            "feature_interfaces": sorted(self.feature_interfaces),
        }


def _vip_key(vip: Any, ip_proto: int) -> tuple[Any, ...]:
    if vip.sw_if_index != U32_MAX:
        return ("if", vip.sw_if_index, int(vip.if_af), vip.port, ip_proto)
    return ("ip", vip.addr, vip.port, ip_proto)


@handles("cnat_translation_update")
def cnat_translation_update(state: VppState, mp: Any) -> Fields:
    tr = mp.translation
    if tr.n_paths == 0:
        # vec_validate(paths, n_paths - 1) with n_paths == 0 aborts VPP.
        raise VppCrash("cnat_translation_update with n_paths=0")
    cnat = state.cnat
    ip_proto = int(tr.ip_proto)
    key = _vip_key(tr.vip, ip_proto)
    paths = list(tr.paths)
    index = cnat.by_key.get(key)
    if index is None:
        index = cnat.pool.get()
        cnat.by_key[key] = index
        cnat.translations[index] = Translation(
            id=index,
            vip=tr.vip,
            ip_proto=ip_proto,
            paths=paths,
            is_real_ip=tr.is_real_ip,
            flags=tr.flags,
            lb_type=int(tr.lb_type),
            flow_hash_config=int(tr.flow_hash_config),
            key=key,
        )
    else:
        # lb_type and flow_hash_config only take effect at creation.
        existing = cnat.translations[index]
        existing.paths = paths
        existing.flags = tr.flags
        existing.is_real_ip = tr.is_real_ip
    return {"id": index}


def _delete(cnat: CnatState, index: int) -> None:
    tr = cnat.translations.pop(index)
    cnat.by_key.pop(tr.key, None)
    cnat.pool.put(index)


@handles("cnat_translation_del")
def cnat_translation_del(state: VppState, mp: Any) -> Fields:
    if mp.id not in state.cnat.translations:
        raise ApiError(NO_SUCH_ENTRY, f"translation {mp.id}")
    _delete(state.cnat, mp.id)
    return {}


@handles("cnat_translation_dump")
def cnat_translation_dump(state: VppState, mp: Any) -> list[Fields]:
    return [t.details() for _, t in sorted(state.cnat.translations.items())]


@handles("cnat_session_purge")
def cnat_session_purge(state: VppState, mp: Any) -> Fields:
    # Real VPP purges the sessions *and* every translation.
    for index in list(state.cnat.translations):
        _delete(state.cnat, index)
    return {}


@handles("cnat_session_dump")
def cnat_session_dump(state: VppState, mp: Any) -> list[Fields]:
    return []  # no traffic, no sessions


@handles("cnat_set_snat_addresses")
def cnat_set_snat_addresses(state: VppState, mp: Any) -> Fields:
    state.cnat.snat = {
        "fwd_fib_index": 0,
        "ret_fib_index": 0,
        "snat_ip4": mp.snat_ip4,
        "snat_ip6": mp.snat_ip6,
        "sw_if_index": mp.sw_if_index,
        "flags": 0,
    }
    return {}


@handles("cnat_set_snat_addresses_v2")
def cnat_set_snat_addresses_v2(state: VppState, mp: Any) -> Fields:
    state.cnat.snat = {
        "fwd_fib_index": mp.fwd_fib_index,
        "ret_fib_index": mp.ret_fib_index,
        "snat_ip4": mp.snat_ip4,
        "snat_ip6": mp.snat_ip6,
        "sw_if_index": mp.sw_if_index,
        "flags": int(mp.flags),
    }
    return {}


@handles("cnat_get_snat_addresses")
def cnat_get_snat_addresses(state: VppState, mp: Any) -> Fields:
    snat = state.cnat.snat
    return {
        "id": 0,
        "snat_ip4": snat.get("snat_ip4"),
        "snat_ip6": snat.get("snat_ip6"),
        "sw_if_index": snat.get("sw_if_index", U32_MAX),
    }


@handles("cnat_snat_addresses_dump")
def cnat_snat_addresses_dump(state: VppState, mp: Any) -> list[Fields]:
    snat = state.cnat.snat
    if not snat:
        return []
    return [
        {
            "fwd_table_id4": snat["fwd_fib_index"],
            "fwd_table_id6": snat["fwd_fib_index"],
            "ret_table_id4": snat["ret_fib_index"],
            "ret_table_id6": snat["ret_fib_index"],
            "snat_ip4": snat["snat_ip4"],
            "snat_ip6": snat["snat_ip6"],
            "sw_if_index": snat["sw_if_index"],
        }
    ]


@handles("cnat_set_snat_policy")
def cnat_set_snat_policy(state: VppState, mp: Any) -> Fields:
    policy = int(mp.policy)
    if policy > 3:
        raise ApiError(INVALID_VALUE, f"policy {policy}")
    state.cnat.snat_policy = policy
    return {}


@handles("cnat_snat_policy_add_del_if")
def cnat_snat_policy_add_del_if(state: VppState, mp: Any) -> Fields:
    state.interfaces.validate(mp.sw_if_index)
    table = int(mp.table)
    if table >= N_SNAT_TABLES:
        raise ApiError(INVALID_VALUE, f"table {table}")
    members = state.cnat.snat_if_tables[table]
    if mp.is_add:
        members.add(mp.sw_if_index)
    else:
        members.discard(mp.sw_if_index)
    return {}


@handles("cnat_snat_policy_add_del_exclude_pfx")
def cnat_snat_policy_add_del_exclude_pfx(state: VppState, mp: Any) -> Fields:
    prefixes = state.cnat.exclude_prefixes
    if mp.is_add:
        prefixes.add(mp.prefix)
    elif mp.prefix in prefixes:
        prefixes.discard(mp.prefix)
    else:
        raise ApiError(NO_SUCH_ENTRY, f"prefix {mp.prefix}")
    return {}


@handles("feature_cnat_enable_disable")
def feature_cnat_enable_disable(state: VppState, mp: Any) -> Fields:
    state.interfaces.validate(mp.sw_if_index)
    if mp.enable_disable:
        state.cnat.feature_interfaces.add(mp.sw_if_index)
    else:
        state.cnat.feature_interfaces.discard(mp.sw_if_index)
    return {}
