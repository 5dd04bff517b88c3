"""NetworkPolicy: exactly Kubernetes networking.k8s.io/v1 semantics."""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import Field, model_validator

from .common import CIDR, LabelSelector, Port, PortOrName, Protocol, StrictModel
from .locations import at


class IPBlock(StrictModel):
    cidr: CIDR
    except_: list[CIDR] = Field(default_factory=list, alias="except")

    model_config = StrictModel.model_config | {"populate_by_name": True, "serialize_by_alias": True}

    @model_validator(mode="after")
    def _except_inside_cidr(self) -> IPBlock:
        """Kubernetes: every except entry is a strict subset of cidr."""
        outer = ipaddress.ip_network(self.cidr)
        for index, inner_text in enumerate(self.except_):
            inner = ipaddress.ip_network(inner_text)
            where = f"except[{index}]"
            if inner.version != outer.version:
                raise at(where, f"{inner_text}: IP family differs from cidr {self.cidr}")
            if not inner.subnet_of(outer):  # type: ignore[arg-type]
                raise at(where, f"{inner_text} is not inside cidr {self.cidr}")
            if inner == outer:
                raise at(where, f"{inner_text} must be a strict subset of cidr {self.cidr}")
        return self


class NetworkPolicyPeer(StrictModel):
    """podSelector and namespaceSelector together select pods in the selected namespaces;
    ipBlock stands alone."""

    podSelector: LabelSelector | None = None
    namespaceSelector: LabelSelector | None = None
    ipBlock: IPBlock | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> NetworkPolicyPeer:
        selects = self.podSelector is not None or self.namespaceSelector is not None
        if self.ipBlock is not None and selects:
            raise ValueError("ipBlock may not be combined with podSelector or namespaceSelector")
        if self.ipBlock is None and not selects:
            raise ValueError("a peer needs podSelector, namespaceSelector or ipBlock")
        return self


class NetworkPolicyPort(StrictModel):
    protocol: Protocol = "TCP"
    port: PortOrName | None = Field(default=None, description="absent: all ports")
    endPort: Port | None = None

    @model_validator(mode="after")
    def _range(self) -> NetworkPolicyPort:
        if self.endPort is not None:
            if not isinstance(self.port, int):
                raise at("endPort", "needs a numeric port")
            if self.endPort < self.port:
                raise at("endPort", f"must not be smaller than port {self.port}")
        return self


class NetworkPolicyIngressRule(StrictModel):
    from_: list[NetworkPolicyPeer] | None = Field(
        default=None, alias="from", description="absent or empty: from everywhere"
    )
    ports: list[NetworkPolicyPort] | None = Field(
        default=None, description="absent or empty: all ports"
    )

    model_config = StrictModel.model_config | {"populate_by_name": True, "serialize_by_alias": True}


class NetworkPolicyEgressRule(StrictModel):
    to: list[NetworkPolicyPeer] | None = Field(
        default=None, description="absent or empty: to everywhere"
    )
    ports: list[NetworkPolicyPort] | None = Field(
        default=None, description="absent or empty: all ports"
    )


PolicyType = Literal["Ingress", "Egress"]


class NetworkPolicySpec(StrictModel):
    podSelector: LabelSelector = Field(
        default_factory=LabelSelector, description="empty: every pod in the namespace"
    )
    policyTypes: list[PolicyType] | None = Field(
        default=None,
        json_schema_extra={"uniqueItems": True},
        description="default: Ingress, plus Egress when egress rules are given",
    )
    ingress: list[NetworkPolicyIngressRule] = Field(default_factory=list)
    egress: list[NetworkPolicyEgressRule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_types(self) -> NetworkPolicySpec:
        if self.policyTypes is not None and len(set(self.policyTypes)) != len(self.policyTypes):
            raise at("policyTypes", "duplicate entry")
        return self

    def effective_policy_types(self) -> tuple[PolicyType, ...]:
        """Kubernetes defaulting: Ingress always, Egress only if egress rules exist."""
        if self.policyTypes:
            return tuple(sorted(set(self.policyTypes)))
        return ("Egress", "Ingress") if self.egress else ("Ingress",)
