"""ClusterIP allocation from the service CIDRs, with Kubernetes' ipFamilies/ipFamilyPolicy rules.

Runs inside the write transaction (writers are serialized), so two services created at the
same time can never get the same address: each address is a claim `clusterip/ADDR`.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from .errors import conflict, invalid
from .resources.service import HEADLESS, ServiceSpec
from .store.transaction import WriteTransaction

CLUSTER_IP_CLAIM = "clusterip/"
FAMILY_NAMES = {4: "IPv4", 6: "IPv6"}
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_service_cidrs(text: str) -> list[Network]:
    """`10.96.0.0/12` or `10.96.0.0/12,fd00:96::/108`: at most one CIDR per family."""
    networks: list[Network] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            network = ipaddress.ip_network(part, strict=True)
        except ValueError as exc:
            raise ValueError(f"{part!r} is not a CIDR: {exc}") from None
        if network.num_addresses < 4:
            raise ValueError(f"{part} is too small to allocate from")
        networks.append(network)
    if not networks:
        raise ValueError("at least one service CIDR is needed")
    if len(networks) > 2 or len({n.version for n in networks}) != len(networks):
        raise ValueError("at most one IPv4 and one IPv6 service CIDR")
    return networks


class ClusterIPAllocator:
    def __init__(self, cidrs: list[Network]) -> None:
        self.by_family: dict[int, Network] = {n.version: n for n in cidrs}
        self.primary = cidrs[0].version

    def describe(self) -> str:
        return ", ".join(str(n) for n in self.by_family.values())

    def assign(
        self,
        tx: WriteTransaction,
        owner: tuple[str, str],
        spec: ServiceSpec,
        previous: dict[str, Any] | None,
    ) -> None:
        """Fill clusterIP/clusterIPs/ipFamilies/ipFamilyPolicy in place, as Kubernetes does.
        An update that leaves the addresses out keeps the allocated ones."""
        inherited = _inherit(spec, previous)
        given = self._given(spec)
        policy = spec.ipFamilyPolicy or ("RequireDualStack" if len(given) == 2 else "SingleStack")
        if policy == "SingleStack" and (len(given) == 2 or len(spec.ipFamilies) == 2):
            field = "spec.clusterIPs" if len(given) == 2 else "spec.ipFamilies"
            raise invalid(
                field, "two IP families need ipFamilyPolicy PreferDualStack or RequireDualStack"
            )
        families = self._families(spec, given, policy)
        spec.ipFamilyPolicy = policy
        spec.ipFamilies = [FAMILY_NAMES[f] for f in families]  # type: ignore[misc]
        if spec.is_headless():
            if spec.type != "ClusterIP":
                raise invalid("spec.clusterIP", "None (headless) needs type ClusterIP")
            spec.clusterIP, spec.clusterIPs = HEADLESS, []
            return
        used: set[str] | None = None  # read only when something must be allocated
        chosen: list[str] = []
        for index, family in enumerate(families):
            if index < len(given):
                address = given[index]
                if not inherited:
                    self._check_requested(tx, owner, index, address)
            else:
                if used is None:
                    claims = tx.claims_with_prefix(CLUSTER_IP_CLAIM)
                    used = {c.removeprefix(CLUSTER_IP_CLAIM) for c in claims} | set(chosen)
                address = self._allocate(family, used)
                used.add(address)
            chosen.append(address)
        spec.clusterIPs = chosen
        spec.clusterIP = chosen[0]

    @staticmethod
    def _given(spec: ServiceSpec) -> list[str]:
        if spec.is_headless():
            if spec.clusterIP not in (None, HEADLESS) or spec.clusterIPs not in ([], [HEADLESS]):
                raise invalid("spec.clusterIPs", 'a headless service has only "None"')
            return []
        given = list(spec.clusterIPs)
        if spec.clusterIP is not None:
            if given and given[0] != spec.clusterIP:
                raise invalid("spec.clusterIPs[0]", f"must equal clusterIP {spec.clusterIP}")
            given = given or [spec.clusterIP]
        for index, address in enumerate(given):
            if spec.ipFamilies and index < len(spec.ipFamilies):
                want = spec.ipFamilies[index]
                if FAMILY_NAMES[ipaddress.ip_address(address).version] != want:
                    raise invalid(f"spec.clusterIPs[{index}]", f"{address} is not {want}")
        return given

    def _families(
        self,
        spec: ServiceSpec,
        given: list[str],
        policy: str,
    ) -> list[int]:
        if spec.ipFamilies:
            families = [4 if f == "IPv4" else 6 for f in spec.ipFamilies]
        elif given:
            families = [ipaddress.ip_address(a).version for a in given]
        else:
            families = [self.primary]
        if policy != "SingleStack" and len(families) == 1:
            other = 6 if families[0] == 4 else 4
            if other in self.by_family:
                families.append(other)
            elif policy == "RequireDualStack":
                raise invalid(
                    "spec.ipFamilyPolicy",
                    f"RequireDualStack needs an IPv4 and an IPv6 service CIDR; configured: "
                    f"{self.describe()}",
                )
        for index, family in enumerate(families):
            if family not in self.by_family:
                field = "spec.ipFamilies" if spec.ipFamilies else f"spec.clusterIPs[{index}]"
                raise invalid(
                    field,
                    f"no {FAMILY_NAMES[family]} service CIDR is configured ({self.describe()})",
                )
        return families

    def _check_requested(
        self, tx: WriteTransaction, owner: tuple[str, str], index: int, address: str
    ) -> None:
        ip = ipaddress.ip_address(address)
        network = self.by_family[ip.version]
        if (
            ip not in network
            or ip == network.network_address
            or (ip.version == 4 and ip == network.broadcast_address)
        ):
            raise invalid(
                f"spec.clusterIPs[{index}]",
                f"{address} is not inside the service CIDRs ({self.describe()})",
            )
        holder = tx.claim_owners([CLUSTER_IP_CLAIM + address]).get(CLUSTER_IP_CLAIM + address)
        if holder is not None and (holder.namespace, holder.name) != owner:
            who = f"{holder.kind} {holder.namespace}/{holder.name}"
            raise conflict(f"clusterIP {address} is already allocated to {who}", owner=who)

    def _allocate(self, family: int, used: set[str]) -> str:
        network = self.by_family[family]
        last = network.num_addresses - (2 if family == 4 else 1)
        for offset in range(1, last + 1):
            candidate = str(network.network_address + offset)
            if candidate not in used:
                return candidate
        raise conflict(f"no free cluster IP left in {network}", owner="")


def _inherit(spec: ServiceSpec, previous: dict[str, Any] | None) -> bool:
    """Copy the stored allocation into an update that leaves it out (as kube-apiserver does);
    an explicit SingleStack drops the secondary family."""
    if (
        previous is None
        or not previous.get("clusterIPs")
        or spec.is_headless()
        or spec.clusterIP is not None
        or spec.clusterIPs
    ):
        return False
    spec.clusterIPs = list(previous["clusterIPs"])
    spec.ipFamilyPolicy = spec.ipFamilyPolicy or previous.get("ipFamilyPolicy")
    spec.ipFamilies = spec.ipFamilies or list(previous.get("ipFamilies", []))
    if spec.ipFamilyPolicy == "SingleStack":
        spec.clusterIPs, spec.ipFamilies = spec.clusterIPs[:1], spec.ipFamilies[:1]
    return True


def cluster_ip_claims(spec: ServiceSpec) -> list[tuple[str, str]]:
    return [(CLUSTER_IP_CLAIM + a, f"clusterIP {a}") for a in spec.clusterIPs]
