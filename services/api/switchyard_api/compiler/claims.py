"""Who owns a frontend address: duplicate service addresses are resolved once, per service,
before any frontend is emitted.

Claim keys are (protocol, address, port) for ClusterIP / external / load-balancer IP frontends
(and the VIP frontends of GRE load balancers), and ("nodePort/<protocol>", "", nodePort) for
node ports, which every node exposes on all its addresses. The smallest claimant wins; services
rank before load balancers, so a LoadBalancer whose VIP frontend is already provided by the very
service it points at (that service's loadBalancerIPs) silently yields to it.
"""

from __future__ import annotations

from ..resources.intent import ObjectRef
from .index import NsName
from .problems import CompileError

ClaimKey = tuple[str, str, int]
# (rank: 0 service / 1 load balancer, namespace, name)
Claimant = tuple[int, str, str]


def service_claimant(key: NsName) -> Claimant:
    return (0, key[0], key[1])


def lb_claimant(name: str) -> Claimant:
    return (1, "", name)


def _ref(claimant: Claimant) -> ObjectRef:
    kind = "Service" if claimant[0] == 0 else "LoadBalancer"
    return ObjectRef(kind, claimant[1], claimant[2])


def _describe(key: ClaimKey) -> str:
    if not key[1]:
        return f"{key[0]} {key[2]}"
    return f"{key[0]} {key[1]} port {key[2]}"


class Claims:
    def __init__(self) -> None:
        self._by_key: dict[ClaimKey, set[Claimant]] = {}
        self._by_claimant: dict[Claimant, frozenset[ClaimKey]] = {}
        self._backing: dict[Claimant, NsName | None] = {}
        self._contested: set[ClaimKey] = set()

    def set(
        self, claimant: Claimant, keys: frozenset[ClaimKey], backing: NsName | None
    ) -> set[Claimant]:
        """Replace a claimant's keys; returns the other claimants whose winning status may
        have changed (to be recompiled)."""
        old = self._by_claimant.get(claimant, frozenset())
        if keys:
            self._by_claimant[claimant] = keys
            self._backing[claimant] = backing
        else:
            self._by_claimant.pop(claimant, None)
            self._backing.pop(claimant, None)
        affected: set[Claimant] = set()
        for key in old - keys:
            holders = self._by_key[key]
            holders.discard(claimant)
            affected |= holders
            if not holders:
                del self._by_key[key]
            self._note(key)
        for key in keys - old:
            holders = self._by_key.setdefault(key, set())
            affected |= holders
            holders.add(claimant)
            self._note(key)
        affected.discard(claimant)
        return affected

    def _note(self, key: ClaimKey) -> None:
        if len(self._by_key.get(key, ())) > 1:
            self._contested.add(key)
        else:
            self._contested.discard(key)

    def holders(self, key: ClaimKey) -> list[Claimant]:
        """Who claims `key`, the winner first."""
        return sorted(self._by_key.get(key, ()))

    def wins(self, claimant: Claimant, key: ClaimKey) -> bool:
        holders = self._by_key.get(key)
        if not holders:
            return False
        return len(holders) == 1 or min(holders) == claimant

    def errors(self) -> list[CompileError]:
        out: list[CompileError] = []
        for key in self._contested:
            holders = sorted(self._by_key[key])
            winner = holders[0]
            for loser in holders[1:]:
                if self._backing.get(loser) is not None and (
                    self._backing.get(loser) == self._backing.get(winner)
                ):
                    continue
                out.append(
                    CompileError(
                        _ref(loser),
                        f"{_describe(key)} is already used by {_ref(winner)}",
                    )
                )
        return out
