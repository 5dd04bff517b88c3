"""Endpoints of a service, shaped like a Kubernetes EndpointSlice; replaced as a whole."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator

from .common import (
    IPAddress,
    Name,
    Port,
    Protocol,
    StrictModel,
    check_no_duplicates,
    ip_family,
)
from .locations import at


class EndpointConditions(StrictModel):
    """Kubernetes semantics: ready implies serving and not terminating."""

    ready: bool = True
    serving: bool | None = Field(default=None, description="defaults to ready")
    terminating: bool = False

    def is_serving(self) -> bool:
        return self.ready if self.serving is None else self.serving


class ObjectReference(StrictModel):
    kind: Literal["Pod"] = "Pod"
    namespace: Name | None = None
    name: Name


class Endpoint(StrictModel):
    addresses: list[IPAddress] = Field(min_length=1, max_length=2)
    conditions: EndpointConditions = Field(default_factory=EndpointConditions)
    nodeName: Name | None = None
    targetRef: ObjectReference | None = None
    zone: str | None = Field(default=None, max_length=63)


def _empty_is_none(value: object) -> object:
    return None if value == "" else value


class EndpointPort(StrictModel):
    # Kubernetes' controller writes "" for a service's single unnamed port.
    name: Annotated[Name | None, BeforeValidator(_empty_is_none)] = Field(
        default=None, description='the service port\'s name ("" is no name)'
    )
    port: Port
    protocol: Protocol = "TCP"


class EndpointsSpec(StrictModel):
    """addressType IPv4/IPv6 as in Kubernetes; DualStack (an extension) lets an endpoint list one
    address per family, so that one object serves a dual-stack service."""

    addressType: Literal["IPv4", "IPv6", "DualStack"] = "IPv4"
    endpoints: list[Endpoint] = Field(default_factory=list)
    ports: list[EndpointPort] = Field(default_factory=list)

    @field_validator("ports")
    @classmethod
    def _unique_port_names(cls, value: list[EndpointPort]) -> list[EndpointPort]:
        check_no_duplicates([p.name for p in value], "port name")
        return value

    @model_validator(mode="after")
    def _addresses_fit_type(self) -> EndpointsSpec:
        want = {"IPv4": 4, "IPv6": 6}.get(self.addressType)
        seen: set[str] = set()
        for index, endpoint in enumerate(self.endpoints):
            families = [ip_family(a) for a in endpoint.addresses]
            where = f"endpoints[{index}].addresses"
            if want is not None and any(f != want for f in families):
                raise at(where, f"addressType {self.addressType} needs IPv{want}")
            if len(set(families)) != len(families):
                raise at(where, "at most one address per IP family")
            for address in endpoint.addresses:
                if address in seen:
                    raise at(where, f"address {address} is listed twice")
                seen.add(address)
        return self
