"""The convergence status every intent object carries (Node has its own richer status)."""

from __future__ import annotations

from pydantic import Field

from .common import StrictModel


class ObjectFailure(StrictModel):
    node: str
    key: str = Field(description="the dataplane object that failed (NodeConfig key)")
    message: str


class CompileProblem(StrictModel):
    node: str = Field(description="empty when it concerns every node")
    message: str


class NodeNotApplied(StrictModel):
    node: str
    reason: str = Field(
        description="why the node, although it processed this resourceVersion, does not count "
        "as having applied the object: a dataplane down, a NACKed key that may come from it, "
        "or a NACK of the whole revision"
    )


class PodAttachmentStatus(StrictModel):
    """Pods only: the VPP interface switchyard-cni attached the pod with, as its node's agent
    reported it. The compiler uses it when spec.interface is not set."""

    node: str
    containerID: str
    interface: str = Field(description="the pod's VPP interface, e.g. tap3 or memif2/0")
    ips: list[str] = Field(default_factory=list)
    mode: str = Field(description="tap or memif")


class ObjectStatus(StrictModel):
    appliedNodes: int = Field(
        description="nodes whose agent has processed this object's resourceVersion and "
        "applied it (see notAppliedNodes for those that processed it without applying it)"
    )
    totalNodes: int
    failures: list[ObjectFailure] = Field(
        default_factory=list,
        description="dataplane objects compiled from this one that nodes NACKed",
    )
    compileErrors: list[CompileProblem] = Field(default_factory=list)
    notAppliedNodes: list[NodeNotApplied] = Field(default_factory=list)
    attachment: PodAttachmentStatus | None = None
