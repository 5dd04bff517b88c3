"""Where ACLs go on a node, their sharing, garbage collection and per-drain deltas.

Placement (the talk's and Contiv-VPP's):
- a pod's interface gets INPUT = the pod's egress ACL and OUTPUT = the pod's ingress ACL.
  With cnat's feature on the interface, cnat-input runs before the input ACL (egress is seen
  post-DNAT: backend pod IP:targetPort) and the output ACL runs before cnat-output (ingress is
  seen post-DNAT too; the reverse translation of replies happens after it). A pod isolated in
  one direction only gets a permit+reflect-all ACL in the other direction: reflect sessions are
  per interface and are only created by a matching permit+reflect, so without it the replies to
  the pod's own connections would hit the isolating ACL of the other direction.
- the node's uplink gets one global ACL on OUTPUT that permits everything (action 1, both
  families). It cannot hold a deny: reflect sessions live on the pod interfaces, not on the
  uplink, so a deny there would also drop replies of flows both pods' ACLs allowed; and it need
  not hold anything, because every pod with an interface is checked on its own interface for both
  directions with the same addresses the uplink would see (post-DNAT destination, pre-SNAT
  source). It exists as the one fixed, explicit hook for node-outbound traffic: the agent
  reconciles the uplink's ACL list to exactly this instead of leaving whatever was there.
- pods without policy, and pods without an interface, get no binding (no binding = VPP permits).

Several claimants may name the same interface (misconfiguration); the first in a fixed order
(the uplink, then pods by namespace/name) wins and the others are reported as errors.
ACLs are keyed by content hash and reference-counted per node: N pods with the same effective
policy share one Acl object, which disappears with its last binding.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from switchyard_contract.nodeconfig import Acl, AclBinding, NodeObject

from ..part import PartDelta

# ("0", "") = the node's uplink; ("1", "ns/name") = a pod. Sorting = precedence.
Claimant = tuple[str, str]
UPLINK: Claimant = ("0", "")


@dataclass(frozen=True, slots=True)
class Attachment:
    """What one claimant wants on one interface: its binding and the ACLs it references."""

    binding: AclBinding
    acls: tuple[Acl, ...]


class NodePlacement:
    def __init__(self) -> None:
        self.claims: dict[str, dict[Claimant, Attachment | None]] = {}
        self.effective: dict[str, Attachment] = {}
        self.acl_refs: dict[str, int] = {}
        self.objects: dict[str, NodeObject] = {}
        # key -> value at the last drain (None: absent), for keys touched since then.
        self.baseline: dict[str, NodeObject | None] = {}
        self.conflicts: dict[str, list[Claimant]] = {}  # interface -> losing claimants

    def claim(self, interface: str, claimant: Claimant, attachment: Attachment | None) -> None:
        claims = self.claims.setdefault(interface, {})
        claims[claimant] = attachment
        self._resolve(interface)

    def release(self, interface: str, claimant: Claimant) -> None:
        claims = self.claims.get(interface)
        if claims is None or claimant not in claims:
            return
        del claims[claimant]
        if not claims:
            del self.claims[interface]
        self._resolve(interface)

    def _resolve(self, interface: str) -> None:
        claims = self.claims.get(interface, {})
        order = sorted(claims)
        winner = claims[order[0]] if order else None
        if len(order) > 1:
            self.conflicts[interface] = order[1:]
        else:
            self.conflicts.pop(interface, None)
        old = self.effective.get(interface)
        if old == winner:
            return
        if winner is not None:
            self.effective[interface] = winner
            for acl in winner.acls:
                self._ref(acl, +1)
            self._set(winner.binding.key, winner.binding)
        else:
            del self.effective[interface]
            self._set(AclBinding(interface, (), ()).key, None)
        if old is not None:
            for acl in old.acls:
                self._ref(acl, -1)

    def _ref(self, acl: Acl, step: int) -> None:
        count = self.acl_refs.get(acl.name, 0) + step
        if count > 0:
            self.acl_refs[acl.name] = count
            if step > 0:
                self._set(acl.key, acl)
        else:
            self.acl_refs.pop(acl.name, None)
            self._set(acl.key, None)

    def _set(self, key: str, value: NodeObject | None) -> None:
        if key not in self.baseline:
            self.baseline[key] = self.objects.get(key)
        if value is None:
            self.objects.pop(key, None)
        else:
            self.objects[key] = value

    def drain(self) -> PartDelta | None:
        upserts: dict[str, NodeObject] = {}
        removals: set[str] = set()
        for key, before in self.baseline.items():
            now = self.objects.get(key)
            if now is None and before is not None:
                removals.add(key)
            elif now is not None and now != before:
                upserts[key] = now
        self.baseline.clear()
        return PartDelta(upserts, removals) if upserts or removals else None

    def is_empty(self) -> bool:
        return not self.claims and not self.objects and not self.baseline

    def snapshot(self) -> Mapping[str, NodeObject]:
        return dict(self.objects)
