"""Node: a host running VPP, GoBGP and the agent."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator, model_validator

from .common import (
    ASN,
    CIDR,
    IPAddress,
    IPv4Address,
    IPv6Address,
    SafeStr,
    StrictModel,
    check_distinct_families,
    check_no_duplicates,
    ip_family,
)


class NodeBgp(StrictModel):
    asn: ASN
    routerId: IPv4Address = Field(description="BGP router id, an IPv4 address")

    @model_validator(mode="after")
    def _router_id_is_ipv4(self) -> NodeBgp:
        if ip_family(self.routerId) != 4:
            raise ValueError("routerId must be an IPv4 address")
        return self


class NodeLoadBalancer(StrictModel):
    """Settings of VPP's lb plugin (lb_conf) when this node is selected as an LB node."""

    ip4SourceAddress: IPv4Address | None = Field(
        default=None, description="encap source for IPv4 (default: the node's first IPv4)"
    )
    ip6SourceAddress: IPv6Address | None = Field(
        default=None, description="encap source for IPv6 (default: the node's first IPv6)"
    )
    stickyBucketsPerCore: Annotated[int, Field(ge=1, le=1 << 24)] = 1024
    flowTimeoutSeconds: Annotated[int, Field(ge=1, le=86400)] = 40

    @model_validator(mode="after")
    def _families(self) -> NodeLoadBalancer:
        if self.ip4SourceAddress and ip_family(self.ip4SourceAddress) != 4:
            raise ValueError("ip4SourceAddress must be an IPv4 address")
        if self.ip6SourceAddress and ip_family(self.ip6SourceAddress) != 6:
            raise ValueError("ip6SourceAddress must be an IPv6 address")
        return self


class NodeSpec(StrictModel):
    addresses: list[IPAddress] = Field(
        min_length=1,
        json_schema_extra={"uniqueItems": True},
        description="the node's own addresses (IPv4 and/or IPv6)",
    )
    podCIDRs: list[CIDR] = Field(default_factory=list, max_length=2)
    uplinkInterface: SafeStr = Field(
        default="", max_length=64, description="VPP interface toward the rest of the cluster"
    )
    bgp: NodeBgp | None = None
    loadBalancer: NodeLoadBalancer = Field(default_factory=NodeLoadBalancer)

    @field_validator("addresses")
    @classmethod
    def _unique_addresses(cls, value: list[str]) -> list[str]:
        check_no_duplicates(value, "address")
        return value

    @field_validator("podCIDRs")
    @classmethod
    def _one_cidr_per_family(cls, value: list[str]) -> list[str]:
        return check_distinct_families(value, "podCIDRs")


class ObjectError(StrictModel):
    key: str
    message: str


class PendingObject(StrictModel):
    key: str = Field(description="the node object held back, e.g. interface/tap3")
    waitingFor: list[str] = Field(
        default_factory=list,
        description="keys of the dependencies it waits for; empty when it waits for no object "
        "(a disconnected dataplane, a deletion deferred while others use it)",
    )
    reason: str = Field(
        default="",
        description="e.g. waiting for vpp-interface/tap3 (the dataplane does not have it yet)",
    )


class NodeStatus(StrictModel):
    """Reported by the distribution service; read-only for clients."""

    connected: bool = False
    agentVersion: str | None = None
    appliedRevision: int | None = Field(
        default=None, description="the last revision the agent processed (ACK or NACK)"
    )
    lastError: str | None = None
    lastSeen: str | None = None
    errors: list[ObjectError] = Field(
        default_factory=list, description="objects the agent failed to apply at appliedRevision"
    )
    replica: str | None = Field(default=None, description="API replica holding the stream")
    dataplanes: dict[str, str] = Field(
        default_factory=dict, description='as the agent reports them, e.g. {"vpp": "connected"}'
    )
    pendingObjects: int = Field(default=0, description="objects waiting on a dependency")
    pending: list[PendingObject] = Field(
        default_factory=list,
        description="the pending objects with what each waits for, sorted by key (at most 100 "
        "listed; pendingObjects counts them all)",
    )
    acked: bool = Field(
        default=False,
        description="the agent ACKed appliedRevision: every object applied, or waiting only "
        "for an interface to appear (a NACK, or no answer yet, is false)",
    )
    converged: bool = Field(
        default=False,
        description="connected, ACKed appliedRevision, and every dataplane connected: the "
        "node holds appliedRevision in its dataplanes",
    )
    dataplanesDown: list[str] = Field(
        default_factory=list,
        description="dataplanes the agent reports as not connected: what they render is not "
        "applied on this node",
    )
    retryingObjects: list[str] = Field(
        default_factory=list,
        description="failed objects the agent tries again by itself with a bounded backoff "
        "(at most 100 listed)",
    )
