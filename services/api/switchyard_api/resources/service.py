"""Service: Kubernetes Service semantics (ClusterIP, NodePort, LoadBalancer)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, WithJsonSchema, field_validator, model_validator

from . import patterns
from .common import (
    MAX_PORTS,
    IPAddress,
    Labels,
    Name,
    Port,
    PortOrName,
    Protocol,
    StrictModel,
    check_distinct_families,
    check_ip,
    check_no_duplicates,
)
from .compat import ignored
from .locations import at

TrafficPolicy = Literal["Cluster", "Local"]
IPFamily = Literal["IPv4", "IPv6"]
IPFamilyPolicy = Literal["SingleStack", "PreferDualStack", "RequireDualStack"]
HEADLESS = "None"


def _check_cluster_ip(value: str) -> str:
    return value if value == HEADLESS else check_ip(value)


# An address, or "None" for a headless service (as in Kubernetes).
ClusterIP = Annotated[
    str,
    AfterValidator(_check_cluster_ip),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": f"^({HEADLESS}|{patterns.IP[1:-1]})$",
            "description": 'an IPv4 or IPv6 address, or "None" (headless)',
        }
    ),
]


class ServicePort(StrictModel):
    # A DNS-1123 label, as in Kubernetes (only target ports are IANA service names).
    name: Name | None = Field(default=None, description="required when there are 2+ ports")
    protocol: Protocol = "TCP"
    port: Port
    targetPort: PortOrName | None = Field(
        default=None, description="number, or a named container port (default: port)"
    )
    nodePort: Port | None = Field(
        default=None, description="NodePort/LoadBalancer only; allocated from the range if unset"
    )
    appProtocol: str | None = ignored()


class ClientIPConfig(StrictModel):
    timeoutSeconds: Annotated[int, Field(ge=1, le=86400)] = 10800


class SessionAffinityConfig(StrictModel):
    clientIP: ClientIPConfig = Field(default_factory=ClientIPConfig)


class ServiceSpec(StrictModel):
    type: Literal["ClusterIP", "NodePort", "LoadBalancer"] = "ClusterIP"
    selector: Labels | None = Field(
        default=None,
        description="pods of the namespace with all these labels are the endpoints, kept "
        "current by Switchyard; absent or empty: endpoints are written by hand",
    )
    clusterIP: ClusterIP | None = Field(
        default=None, description="the primary cluster IP; None: headless; absent: allocated"
    )
    clusterIPs: list[ClusterIP] = Field(
        default_factory=list,
        max_length=2,
        description="one per IP family (dual-stack: two); absent: allocated from the service CIDRs",
    )
    ipFamilies: list[IPFamily] = Field(
        default_factory=list,
        max_length=2,
        description="families of clusterIPs, in order",
        json_schema_extra={"uniqueItems": True},
    )
    ipFamilyPolicy: IPFamilyPolicy | None = Field(
        default=None,
        description="default SingleStack (RequireDualStack when two clusterIPs are given)",
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
    loadBalancerIP: IPAddress | None = Field(
        default=None, description="deprecated in Kubernetes; the same as one loadBalancerIPs"
    )
    loadBalancerSourceRanges: list[str] | None = Field(
        default=None,
        description="not supported by Switchyard: must be absent or empty",
        json_schema_extra={"maxItems": 0},
    )
    allocateLoadBalancerNodePorts: bool | None = ignored()
    publishNotReadyAddresses: bool | None = ignored()
    healthCheckNodePort: int | None = ignored()
    loadBalancerClass: str | None = ignored()
    trafficDistribution: str | None = ignored()

    @field_validator("clusterIPs")
    @classmethod
    def _one_cluster_ip_per_family(cls, value: list[str]) -> list[str]:
        if HEADLESS in value:
            if value != [HEADLESS]:
                raise ValueError('"None" (headless) must be the only entry')
            return value
        return check_distinct_families(value, "clusterIPs")

    @field_validator("loadBalancerSourceRanges")
    @classmethod
    def _no_source_ranges(cls, value: list[str] | None) -> None:
        if value:
            raise ValueError("source ranges cannot be honoured by Switchyard; leave it empty")
        return None

    @field_validator("ipFamilies")
    @classmethod
    def _distinct_families(cls, value: list[str]) -> list[str]:
        check_no_duplicates(value, "IP family")
        return value

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
            index = next(i for i, p in enumerate(self.ports) if p.nodePort)
            raise at(f"ports[{index}].nodePort", "only NodePort and LoadBalancer services have one")
        if self.type != "LoadBalancer" and self.loadBalancerIPs:
            raise at("loadBalancerIPs", "only LoadBalancer services have them")
        if self.sessionAffinityConfig is not None and self.sessionAffinity != "ClientIP":
            raise at("sessionAffinityConfig", "only with sessionAffinity ClientIP")
        if self.type == "ClusterIP" and self.externalTrafficPolicy != "Cluster":
            raise at("externalTrafficPolicy", "Local needs a NodePort or LoadBalancer service")
        if self.loadBalancerIP is not None:
            if self.type != "LoadBalancer":
                raise at("loadBalancerIP", "only LoadBalancer services have one")
            if self.loadBalancerIP not in self.loadBalancerIPs:
                self.loadBalancerIPs.insert(0, self.loadBalancerIP)
            self.loadBalancerIP = None
        return self

    def is_headless(self) -> bool:
        return self.clusterIP == HEADLESS or self.clusterIPs == [HEADLESS]

    def has_selector(self) -> bool:
        return bool(self.selector)

    def affinity_timeout(self) -> int:
        """Seconds of ClientIP affinity, 0 when affinity is off."""
        if self.sessionAffinity != "ClientIP":
            return 0
        config = self.sessionAffinityConfig or SessionAffinityConfig()
        return config.clientIP.timeoutSeconds
