"""The answer of POST /v1/explain (pydantic: it is also the documented REST schema)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

Verdict = Literal["allowed", "denied"]


class Endpoint(BaseModel):
    ip: str
    pod: str | None = Field(None, description='"namespace/name" when the address is a pod\'s')
    node: str | None = Field(None, description="the node it is on; null outside the cluster")
    interface: str | None = None


class RuleView(BaseModel):
    action: str = Field(description="deny, permit or permit+reflect")
    srcPrefix: str
    dstPrefix: str
    proto: int = Field(description="IP protocol number; 0 = any")
    srcPorts: str
    dstPorts: str


class AclStep(BaseModel):
    """One interface and direction the packet meets, and what its ACL list decided."""

    node: str
    interface: str
    direction: Literal["input", "output"]
    packet: str = Field(description="the 5-tuple this ACL sees (after DNAT, before SNAT)")
    acl: str | None = Field(None, description="the ACL whose rule decided; null if none did")
    ruleIndex: int | None = None
    rule: RuleView | None = None
    action: str = Field(description="pass, deny, permit, permit+reflect or reflect-session")
    passed: bool
    intent: str = Field(description="why: the policy rule, the isolation, or none")
    policies: list[str] = Field(default_factory=list, description="NetworkPolicies involved")
    ruleIndices: list[int] = Field(
        default_factory=list, description="their ingress/egress rule indices (same order)"
    )


class BackendView(BaseModel):
    address: str
    port: int
    weight: int
    chosen: bool = Field(description="takes new flows (weight > 0; cnat never gets the others)")
    node: str | None = None
    pod: str | None = None


class Translation(BaseModel):
    """The cnat translation that matched on the node where the flow enters VPP."""

    node: str
    key: str
    kind: str
    service: str
    address: str
    protocol: str
    port: int
    affinity: str = Field(description='"None" or "ClientIP (N s)"')
    localOnly: bool = Field(description="only this node's endpoints (traffic policy Local)")
    backends: list[BackendView]


class PathView(BaseModel):
    """The flow to one destination (a backend, or the destination itself)."""

    destination: Endpoint
    port: int
    verdict: Verdict
    steps: list[AclStep]
    reply: list[AclStep] = Field(description="the reply's checkpoints (reflect sessions)")
    note: str = ""


class Explanation(BaseModel):
    compiledRevision: int | None = Field(None, description="the revision this answer reflects")
    source: Endpoint
    destination: str
    protocol: str
    port: int
    entryNode: str | None = Field(description="the node where the flow enters VPP")
    translation: Translation | None
    noTranslation: str | None = Field(None, description="why no translation applies")
    verdict: Verdict = Field(description="allowed when at least one path is allowed")
    paths: list[PathView]


class PlanCounts(BaseModel):
    added: int
    changed: int
    removed: int


class TotalCounts(PlanCounts):
    nodes: int


class NodePlanView(BaseModel):
    added: list[str] = Field(description="dataplane keys the write would create")
    changed: list[str]
    removed: list[str]
    counts: PlanCounts
    values: dict[str, dict[str, Any]] | None = Field(
        None, description="with ?verbose: per key its `before` and/or `after` value"
    )


class DryRunPlan(BaseModel):
    """Per node, what a dryRun=All write would change in the dataplane."""

    compiledRevision: int = Field(description="the compiled revision the plan is relative to")
    nodes: dict[str, NodePlanView]
    counts: TotalCounts
