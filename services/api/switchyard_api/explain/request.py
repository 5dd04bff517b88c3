"""The body of POST /v1/explain."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..resources.common import IPAddress, Name

NS_NAME = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?/[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"


def _only(given: str, *absent: str, **more: Any) -> dict[str, Any]:
    """The oneOf branch where `given` is set and every one of `absent` is absent or null."""
    properties = {given: {"type": "string"}, **{a: {"type": "null"} for a in absent}}
    return {"required": [given], "properties": properties, **more}


# The rules the model validators check, for the schema.
_SOURCE: dict[str, Any] = {"oneOf": [_only("pod", "ip"), _only("ip", "pod")]}
_DESTINATION: dict[str, Any] = {
    "oneOf": [
        _only("pod", "ip", "service", "port"),
        _only("ip", "pod", "service", "port"),
        _only("service", "pod", "ip"),
    ]
}
_PORT_GIVEN: dict[str, Any] = {
    "anyOf": [
        {"required": ["port"], "properties": {"port": {"type": "integer"}}},
        {
            "properties": {
                "to": {
                    "required": ["service", "port"],
                    "properties": {"service": {"type": "string"}, "port": {"type": "integer"}},
                }
            }
        },
    ]
}


class FlowSource(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_SOURCE)
    pod: str | None = Field(None, pattern=NS_NAME, description='"namespace/name"')
    ip: IPAddress | None = None
    node: Name | None = Field(
        None, description="for an address outside the cluster: the node whose uplink it enters"
    )

    @model_validator(mode="after")
    def _one_of(self) -> FlowSource:
        if (self.pod is None) == (self.ip is None):
            raise ValueError("give exactly one of pod or ip")
        return self


class FlowDestination(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_DESTINATION)
    pod: str | None = Field(None, pattern=NS_NAME, description='"namespace/name"')
    ip: IPAddress | None = None
    service: str | None = Field(None, pattern=NS_NAME, description='"namespace/name"')
    port: int | None = Field(None, ge=1, le=65535, description="the service port")

    @model_validator(mode="after")
    def _one_of(self) -> FlowDestination:
        if sum(v is not None for v in (self.pod, self.ip, self.service)) != 1:
            raise ValueError("give exactly one of pod, ip or service")
        if self.port is not None and self.service is None:
            raise ValueError("port: only with service (the flow's port is the top-level port)")
        return self


class FlowRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, json_schema_extra=_PORT_GIVEN)
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
