"""Where each compiled ACL rule came from, kept by the compiler beside its ACLs.

The agents never see this: it exists so that explain can name the NetworkPolicy rule behind a
permit, or the policies whose selection made a pod isolated. Raw rules (before canonical
merging) are kept with their origin; a canonical rule that matches a flow is attributed to the
raw rules that match the same flow, which are exactly the ones it was merged from.
"""

from __future__ import annotations

from dataclasses import dataclass

from switchyard_contract.nodeconfig import AclRule


@dataclass(frozen=True, slots=True)
class RuleOrigin:
    """A NetworkPolicy rule (policy "ns/name", direction, rule index) or, with `policy` empty,
    a permit the compiler adds itself (`reason` says which)."""

    policy: str
    direction: str
    rule_index: int = -1
    reason: str = ""

    def describe(self) -> str:
        if self.policy:
            return f"NetworkPolicy {self.policy} {self.direction.lower()} rule {self.rule_index}"
        return self.reason


OWN_NODE = "the pod's own node may always connect to it (kubelet probes)"
# One rule of intent and the raw permits it produced (shared lists, not a tuple per permit:
# provenance must cost the compiler next to nothing).
SourcedRules = tuple[RuleOrigin, list[AclRule]]


@dataclass(frozen=True, slots=True)
class DirectionProvenance:
    """One direction of one pod: the policies that isolate it there (empty: not isolated)
    and the raw permits its ACL was built from."""

    acl: str  # the Acl.name on the interface for this direction
    policies: tuple[str, ...]
    rules: tuple[SourcedRules, ...] = ()


@dataclass(frozen=True, slots=True)
class PodProvenance:
    ingress: DirectionProvenance  # the interface's output ACL
    egress: DirectionProvenance  # the interface's input ACL
