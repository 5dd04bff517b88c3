"""The body of POST /v1/explain."""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

NS_NAME = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?/[a-z0-9]([-a-z0-9]*[a-z0-9])?$"


def _check_ip(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise ValueError(f"{value!r} is not an IP address") from None


class FlowSource(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pod: str | None = Field(None, pattern=NS_NAME, description='"namespace/name"')
    ip: str | None = None
    node: str | None = Field(
        None,
        max_length=63,
        description="for an address outside the cluster: the node whose uplink it enters",
    )

    _ip = field_validator("ip")(_check_ip)

    @model_validator(mode="after")
    def _one_of(self) -> FlowSource:
        if (self.pod is None) == (self.ip is None):
            raise ValueError("give exactly one of pod or ip")
        return self


class FlowDestination(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pod: str | None = Field(None, pattern=NS_NAME, description='"namespace/name"')
    ip: str | None = None
    service: str | None = Field(None, pattern=NS_NAME, description='"namespace/name"')
    port: int | None = Field(None, ge=1, le=65535, description="the service port")

    _ip = field_validator("ip")(_check_ip)

    @model_validator(mode="after")
    def _one_of(self) -> FlowDestination:
        if sum(v is not None for v in (self.pod, self.ip, self.service)) != 1:
            raise ValueError("give exactly one of pod, ip or service")
        if self.port is not None and self.service is None:
            raise ValueError("port: only with service (the flow's port is the top-level port)")
        return self


class FlowRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    from_: FlowSource = Field(alias="from")
    to: FlowDestination
    protocol: Literal["TCP", "UDP", "SCTP"] = "TCP"
    port: int | None = Field(None, ge=1, le=65535, description="destination port")
    sourcePort: int = Field(40000, ge=1, le=65535)

    @model_validator(mode="after")
    def _port_given(self) -> FlowRequest:
        if self.port is None and (self.to.service is None or self.to.port is None):
            raise ValueError("port: required (or to.port with a service)")
        return self

    def destination_port(self) -> int:
        port = self.to.port if self.to.port is not None else self.port
        assert port is not None
        return port
