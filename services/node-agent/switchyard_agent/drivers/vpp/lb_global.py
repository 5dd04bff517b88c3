"""LbGlobal -> `lb_conf` (encap source addresses, sticky buckets, flow timeout).

`lb_conf_get` reads everything back. The settings are global, not an object: they count as ours
once we set them (recorded); before that nothing is reported, and creating overwrites VPP's
defaults. Deleting restores the defaults of VPP's lb plugin.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from switchyard_contract.nodeconfig import LbGlobal

from ...descriptors import Dumped
from .common import VppDescriptor

KIND = LbGlobal.KIND
DEFAULT_STICKY_BUCKETS = 1024  # LB_DEFAULT_PER_CPU_STICKY_BUCKETS
DEFAULT_FLOW_TIMEOUT = 40  # LB_DEFAULT_FLOW_TIMEOUT


def _norm(value: LbGlobal) -> tuple[object, ...]:
    return (
        str(ipaddress.ip_address(value.ip4_src)) if value.ip4_src else None,
        str(ipaddress.ip_address(value.ip6_src)) if value.ip6_src else None,
        value.sticky_buckets_per_core,
        value.flow_timeout,
    )


class LbGlobalDescriptor(VppDescriptor[LbGlobal]):
    kind = KIND

    def equivalent(self, desired: LbGlobal, actual: LbGlobal) -> bool:
        return _norm(desired) == _norm(actual)

    def can_update(self, old: LbGlobal, new: LbGlobal) -> bool:
        return True

    def create(self, value: LbGlobal) -> object:
        self.store.put(KIND, KIND, True)
        self._conf(value.ip4_src, value.ip6_src, value.sticky_buckets_per_core, value.flow_timeout)
        return None

    def update(self, old: LbGlobal, new: LbGlobal, metadata: object) -> object:
        return self.create(new)

    def delete(self, value: LbGlobal, metadata: object) -> None:
        self._conf(None, None, DEFAULT_STICKY_BUCKETS, DEFAULT_FLOW_TIMEOUT)
        self.store.delete(KIND, KIND)

    def _conf(self, ip4: str | None, ip6: str | None, buckets: int, timeout: int) -> None:
        self.conn.call(
            "lb_conf",
            ip4_src_address=ip4 or "0.0.0.0",
            ip6_src_address=ip6 or "::",
            sticky_buckets_per_core=buckets,
            flow_timeout=timeout,
        )

    def dump(self) -> Iterable[Dumped[LbGlobal]]:
        if self.store.get(KIND, KIND) is None:
            return []
        r = self.conn.call("lb_conf_get")
        ip4 = ipaddress.ip_address(str(r.ip4_src_address))
        ip6 = ipaddress.ip_address(str(r.ip6_src_address))
        value = LbGlobal(
            str(ip4) if int(ip4) else None,
            str(ip6) if int(ip6) else None,
            int(r.sticky_buckets_per_core),
            int(r.flow_timeout),
        )
        return [Dumped(value, owned=True)]
