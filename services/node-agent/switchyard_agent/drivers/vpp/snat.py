"""SnatConfig -> cnat's source NAT of pod egress, per notes/vpp-cnat.md:
`cnat_set_snat_addresses_v2` (the node addresses, sw_if_index ~0, flags NO_CLIENT=2),
`cnat_set_snat_policy` K8S (2), and `cnat_snat_policy_add_del_exclude_pfx` for the pod and
service CIDRs.

Only the addresses can be read back (`cnat_get_snat_addresses`); the policy and the exclude
list are recorded and trusted only for the VPP process they were set on. Ours when recorded;
SNAT addresses set by someone else are reported as a foreign object (never overwritten).
Deleting restores VPP's defaults (no addresses, policy NONE, no exclusions).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from switchyard_contract.nodeconfig import SnatConfig

from ...descriptors import Dumped
from .common import U32_MAX, VppDescriptor, net_text
from .connection import VppApiError

KIND = SnatConfig.KIND
FLAG_NO_CLIENT = 2
POLICY_NONE = 0
POLICY_K8S = 2
ANY4 = "0.0.0.0"
ANY6 = "::"


def _norm(value: SnatConfig) -> tuple[object, ...]:
    return (
        str(ipaddress.ip_address(value.snat_ip4)) if value.snat_ip4 else None,
        str(ipaddress.ip_address(value.snat_ip6)) if value.snat_ip6 else None,
        frozenset(net_text(p) for p in value.exclude_prefixes),
    )


class SnatDescriptor(VppDescriptor[SnatConfig]):
    kind = KIND

    def equivalent(self, desired: SnatConfig, actual: SnatConfig) -> bool:
        return _norm(desired) == _norm(actual)

    def can_update(self, old: SnatConfig, new: SnatConfig) -> bool:
        return True

    def create(self, value: SnatConfig) -> object:
        return self._apply(SnatConfig(None, None, ()), value)

    def update(self, old: SnatConfig, new: SnatConfig, metadata: object) -> object:
        return self._apply(old, new)

    def _apply(self, old: SnatConfig, new: SnatConfig) -> object:
        self.ctx.check_epoch()
        # Recorded first: a failure half-way leaves something of ours to clean up or finish.
        self.store.put(
            KIND, KIND, {"snat_ip4": new.snat_ip4, "snat_ip6": new.snat_ip6, "exclude_prefixes": []}
        )
        self.conn.call(
            "cnat_set_snat_addresses_v2",
            fwd_fib_index=0,
            ret_fib_index=0,
            snat_ip4=new.snat_ip4 or ANY4,
            snat_ip6=new.snat_ip6 or ANY6,
            sw_if_index=U32_MAX,
            flags=FLAG_NO_CLIENT,
        )
        self.conn.call("cnat_set_snat_policy", policy=POLICY_K8S)
        wanted = {net_text(p) for p in new.exclude_prefixes}
        had = {net_text(p) for p in old.exclude_prefixes}
        for prefix in sorted(wanted):  # adding an existing prefix is harmless
            self.conn.call("cnat_snat_policy_add_del_exclude_pfx", is_add=1, prefix=prefix)
        for prefix in sorted(had - wanted):
            self._remove_prefix(prefix)
        self.store.put(
            KIND,
            KIND,
            {
                "snat_ip4": new.snat_ip4,
                "snat_ip6": new.snat_ip6,
                "exclude_prefixes": sorted(wanted),
            },
        )
        return None

    def _remove_prefix(self, prefix: str) -> None:
        try:
            self.conn.call("cnat_snat_policy_add_del_exclude_pfx", is_add=0, prefix=prefix)
        except VppApiError as exc:
            if exc.retval != -6:  # NO_SUCH_ENTRY: already gone
                raise

    def delete(self, value: SnatConfig, metadata: object) -> None:
        self.ctx.check_epoch()
        for prefix in sorted({net_text(p) for p in value.exclude_prefixes}):
            self._remove_prefix(prefix)
        self.conn.call("cnat_set_snat_policy", policy=POLICY_NONE)
        self.conn.call(
            "cnat_set_snat_addresses_v2",
            fwd_fib_index=0,
            ret_fib_index=0,
            snat_ip4=ANY4,
            snat_ip6=ANY6,
            sw_if_index=U32_MAX,
            flags=0,
        )
        self.store.delete(KIND, KIND)

    def dump(self) -> Iterable[Dumped[SnatConfig]]:
        self.ctx.check_epoch()
        reply = self.conn.call("cnat_get_snat_addresses")
        ip4 = ipaddress.ip_address(str(reply.snat_ip4))
        ip6 = ipaddress.ip_address(str(reply.snat_ip6))
        actual4 = str(ip4) if int(ip4) else None
        actual6 = str(ip6) if int(ip6) else None
        record = self.store.get(KIND, KIND)
        if record is None:
            if actual4 is None and actual6 is None:
                return []
            return [Dumped(SnatConfig(actual4, actual6, ()), owned=False)]
        prefixes = tuple(record["exclude_prefixes"])
        return [Dumped(SnatConfig(actual4, actual6, prefixes), owned=True)]
