"""LoadBalancer: the external L3 load balancer on VPP's lb plugin (talk options 1 and 2)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from .common import (
    CIDR,
    MAX_LIST_ITEMS,
    IPAddress,
    LabelSelector,
    Name,
    StrictModel,
    check_no_duplicates,
    ip_family,
)


class ServiceReference(StrictModel):
    namespace: Name
    name: Name


class LoadBalancerBackends(StrictModel):
    """Application servers of the VIP.

    - gre4/gre6 (talk option 1): the VIP is tunnelled to nodes (those matching nodeSelector,
      or every node); with `service`, each such node's service proxy then DNATs the VIP to
      that service's endpoints.
    - l3dsr (talk option 2): direct server return to the pods of `service`.
    - `addresses`: fixed application servers, for any encap.
    """

    nodeSelector: LabelSelector | None = None
    service: ServiceReference | None = None
    addresses: list[IPAddress] | None = Field(default=None, max_length=MAX_LIST_ITEMS)

    @field_validator("addresses")
    @classmethod
    def _unique(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            check_no_duplicates(value, "address")
        return value

    @model_validator(mode="after")
    def _something_given(self) -> LoadBalancerBackends:
        if self.addresses is not None and (self.nodeSelector or self.service):
            raise ValueError("addresses may not be combined with nodeSelector or service")
        if self.addresses is None and self.nodeSelector is None and self.service is None:
            raise ValueError("give nodeSelector, service or addresses")
        return self


def _power_of_two(value: int) -> int:
    if value & (value - 1):
        raise ValueError(f"{value} is not a power of two")
    return value


class Advertisement(StrictModel):
    enabled: bool = True
    # [0-9], not \d: ECMA-262 reads \d as ASCII, Python and Rust as any Unicode digit.
    communities: list[Annotated[str, Field(pattern=r"^[0-9]{1,5}:[0-9]{1,5}$")]] = Field(
        default_factory=list, description="standard communities as ASN:VALUE"
    )


class LoadBalancerSpec(StrictModel):
    vip: CIDR = Field(description="VIP prefix, e.g. 203.0.113.10/32")
    protocol: Literal["TCP", "UDP", "Any"] = "TCP"
    port: Annotated[int, Field(ge=0, le=65535)] = Field(
        default=0, description="0 with protocol Any: every port"
    )
    encap: Literal["gre4", "gre6", "l3dsr"] = "gre4"
    dscp: Annotated[int, Field(ge=0, le=63)] | None = Field(default=None, description="l3dsr")
    newFlowsTableLength: Annotated[int, Field(ge=1, le=1 << 22)] = Field(
        default=1024, description="consistent-hash table size, a power of two"
    )
    lbNodeSelector: LabelSelector = Field(description="nodes that run the VIP")
    backends: LoadBalancerBackends
    advertise: Advertisement = Field(default_factory=Advertisement)

    @field_validator("newFlowsTableLength")
    @classmethod
    def _table_power_of_two(cls, value: int) -> int:
        return _power_of_two(value)

    @model_validator(mode="after")
    def _consistent(self) -> LoadBalancerSpec:
        if self.protocol == "Any" and self.port != 0:
            raise ValueError("port: must be 0 when protocol is Any")
        if self.protocol != "Any" and self.port == 0:
            raise ValueError("port: give a port 1-65535, or protocol Any for every port")
        if self.encap == "l3dsr":
            if self.dscp is None:
                raise ValueError("dscp: required with encap l3dsr")
        elif self.dscp is not None:
            raise ValueError("dscp: only with encap l3dsr")
        if self.encap == "l3dsr" and self.backends.nodeSelector is not None:
            raise ValueError(
                "backends: encap l3dsr delivers to the service's pods or addresses, not nodes"
            )
        for index, address in enumerate(self.backends.addresses or []):
            family = ip_family(address)
            needed = self.encap_family()
            if needed is not None and family != needed:
                raise ValueError(
                    f"backends.addresses[{index}]: {self.encap} needs IPv{needed} backends"
                )
        return self

    def vip_family(self) -> int:
        return ip_family(self.vip)

    def encap_family(self) -> int | None:
        """IP family the application servers must have (outer header family)."""
        if self.encap == "gre4":
            return 4
        if self.encap == "gre6":
            return 6
        return self.vip_family()
