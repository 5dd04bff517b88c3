"""Service: Kubernetes Service semantics (ClusterIP, NodePort, LoadBalancer)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from .common import (
    MAX_PORTS,
    IPAddress,
    Port,
    PortName,
    Protocol,
    StrictModel,
    check_distinct_families,
    check_no_duplicates,
)

TrafficPolicy = Literal["Cluster", "Local"]


class ServicePort(StrictModel):
    name: PortName | None = Field(default=None, description="required when there are 2+ ports")
    protocol: Protocol = "TCP"
    port: Port
    targetPort: Port | PortName | None = Field(
        default=None, description="number, or a named container port (default: port)"
    )
    nodePort: Port | None = Field(
        default=None, description="NodePort/LoadBalancer only; allocated from the range if unset"
    )


class ClientIPConfig(StrictModel):
    timeoutSeconds: Annotated[int, Field(ge=1, le=86400)] = 10800


class SessionAffinityConfig(StrictModel):
    clientIP: ClientIPConfig = Field(default_factory=ClientIPConfig)


class ServiceSpec(StrictModel):
    type: Literal["ClusterIP", "NodePort", "LoadBalancer"] = "ClusterIP"
    clusterIPs: list[IPAddress] = Field(
        min_length=1, max_length=2, description="one per IP family (dual-stack: two)"
    )
    ports: list[ServicePort] = Field(min_length=1, max_length=MAX_PORTS)
    externalIPs: list[IPAddress] = Field(default_factory=list)
    loadBalancerIPs: list[IPAddress] = Field(
        default_factory=list, description="LoadBalancer only: addresses announced over BGP"
    )
    sessionAffinity: Literal["None", "ClientIP"] = "None"
    sessionAffinityConfig: SessionAffinityConfig | None = None
    externalTrafficPolicy: TrafficPolicy = "Cluster"
    internalTrafficPolicy: TrafficPolicy = "Cluster"

    @field_validator("clusterIPs")
    @classmethod
    def _one_cluster_ip_per_family(cls, value: list[str]) -> list[str]:
        return check_distinct_families(value, "clusterIPs")

    @field_validator("externalIPs", "loadBalancerIPs")
    @classmethod
    def _unique_ips(cls, value: list[str]) -> list[str]:
        check_no_duplicates(value, "address")
        return value

    @field_validator("ports")
    @classmethod
    def _ports_consistent(cls, value: list[ServicePort]) -> list[ServicePort]:
        if len(value) > 1 and any(p.name is None for p in value):
            raise ValueError("every port needs a name when a service has more than one")
        check_no_duplicates([p.name for p in value if p.name], "port name")
        check_no_duplicates([(p.port, p.protocol) for p in value], "port/protocol")
        check_no_duplicates(
            [(p.nodePort, p.protocol) for p in value if p.nodePort], "nodePort/protocol"
        )
        return value

    @model_validator(mode="after")
    def _fields_fit_type(self) -> ServiceSpec:
        if self.type == "ClusterIP" and any(p.nodePort for p in self.ports):
            raise ValueError("ports[].nodePort: only NodePort and LoadBalancer services have one")
        if self.type != "LoadBalancer" and self.loadBalancerIPs:
            raise ValueError("loadBalancerIPs: only LoadBalancer services have them")
        if self.sessionAffinityConfig is not None and self.sessionAffinity != "ClientIP":
            raise ValueError("sessionAffinityConfig: only with sessionAffinity ClientIP")
        if self.type == "ClusterIP" and self.externalTrafficPolicy != "Cluster":
            raise ValueError(
                "externalTrafficPolicy: Local needs a NodePort or LoadBalancer service"
            )
        return self

    def affinity_timeout(self) -> int:
        """Seconds of ClientIP affinity, 0 when affinity is off."""
        if self.sessionAffinity != "ClientIP":
            return 0
        config = self.sessionAffinityConfig or SessionAffinityConfig()
        return config.clientIP.timeoutSeconds
