"""Pod: a workload attached to a node's VPP through one interface."""

from __future__ import annotations

from pydantic import Field, field_validator

from .common import (
    IPAddress,
    Name,
    Port,
    PortName,
    Protocol,
    SafeStr,
    StrictModel,
    check_distinct_families,
    check_no_duplicates,
)


class ContainerPort(StrictModel):
    name: PortName | None = None
    containerPort: Port
    protocol: Protocol = "TCP"


class PodSpec(StrictModel):
    nodeName: Name
    podIPs: list[IPAddress] = Field(
        default_factory=list, max_length=2, description="at most one per IP family"
    )
    interface: SafeStr = Field(
        default="", max_length=64, description="VPP interface connecting the pod, e.g. memif0/1"
    )
    ports: list[ContainerPort] = Field(default_factory=list)

    @field_validator("podIPs")
    @classmethod
    def _one_per_family(cls, value: list[str]) -> list[str]:
        return check_distinct_families(value, "podIPs")

    @field_validator("ports")
    @classmethod
    def _unique_ports(cls, value: list[ContainerPort]) -> list[ContainerPort]:
        check_no_duplicates([p.name for p in value if p.name], "port name")
        check_no_duplicates([(p.containerPort, p.protocol) for p in value], "port")
        return value
