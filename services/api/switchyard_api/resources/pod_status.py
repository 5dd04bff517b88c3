"""The status a Pod's node (or an orchestrator) reports: Kubernetes-shaped conditions.

Only the Ready condition has an effect (a pod that reports none counts as ready); the rest of a
Kubernetes PodStatus is accepted and ignored."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from .common import ObjectMetaIn, StrictModel, check_no_duplicates
from .compat import ignored
from .object_status import ObjectStatus


class PodCondition(StrictModel):
    type: Annotated[str, Field(min_length=1, max_length=316, pattern=r"^[A-Za-z0-9./_-]+$")]
    status: Literal["True", "False", "Unknown"]
    reason: Annotated[str, Field(max_length=1024)] | None = None
    message: Annotated[str, Field(max_length=32768)] | None = None
    lastProbeTime: Annotated[str, Field(max_length=64)] | None = None
    lastTransitionTime: Annotated[str, Field(max_length=64)] | None = None
    observedGeneration: int | None = ignored()


class PodStatusIn(StrictModel):
    conditions: list[PodCondition] = Field(
        default_factory=list, description="Ready decides whether the pod is a live endpoint"
    )
    phase: str | None = ignored()
    message: str | None = ignored()
    reason: str | None = ignored()
    hostIP: str | None = ignored()
    hostIPs: list[dict[str, Any]] | None = ignored()
    podIP: str | None = ignored()
    podIPs: list[dict[str, Any]] | None = ignored()
    startTime: str | None = ignored()
    qosClass: str | None = ignored()
    nominatedNodeName: str | None = ignored()
    observedGeneration: int | None = ignored()
    containerStatuses: list[dict[str, Any]] | None = ignored()
    initContainerStatuses: list[dict[str, Any]] | None = ignored()
    ephemeralContainerStatuses: list[dict[str, Any]] | None = ignored()
    resourceClaimStatuses: list[dict[str, Any]] | None = ignored()
    resize: str | None = ignored()

    @field_validator("conditions")
    @classmethod
    def _one_per_type(cls, value: list[PodCondition]) -> list[PodCondition]:
        check_no_duplicates([c.type for c in value], "condition type")
        return value


class PodStatusDocument(StrictModel):
    """Body of PUT .../pods/{name}/status: a Pod whose `status` is taken, the rest ignored."""

    apiVersion: str = "switchyard.io/v1"
    kind: str = "Pod"
    metadata: ObjectMetaIn = Field(default_factory=ObjectMetaIn)
    spec: dict[str, Any] | None = Field(default=None, description="ignored: see the Pod itself")
    status: PodStatusIn


class PodStatus(ObjectStatus):
    """A Pod's status as read: its reported conditions plus its convergence."""

    conditions: list[PodCondition] = Field(default_factory=list)
    appliedNodes: int | None = None  # type: ignore[assignment]
    totalNodes: int | None = None  # type: ignore[assignment]
