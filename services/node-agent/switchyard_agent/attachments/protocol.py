"""The request/response protocol between `switchyard-cni` and the agent: HTTP/1.1 with JSON
bodies over the agent's unix socket (root only, 0600). Documented in docs/pod-attachment.md.

    POST   /v1/attachments                       AddRequest -> AddReply | ErrorReply
    DELETE /v1/attachments/{containerID}/{ifName}             -> {} (unknown is fine)
    GET    /v1/attachments/{containerID}/{ifName}             -> AddReply | ErrorReply (CHECK)
    GET    /v1/attachments/{containerID}/{ifName}?verify=false -> AddReply | 404 (lookup)

Errors carry a CNI error code (docs: the CNI spec's table) and a message for a person.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .paths import DEFAULT_MEMIF_DIR, DEFAULT_SOCKET

__all__ = ["DEFAULT_SOCKET"]


# CNI 1.0 error codes (spec: "Error"): 11 = try again later.
CODE_INCOMPATIBLE = 1
CODE_INVALID_CONFIG = 7
CODE_TRY_AGAIN = 11
CODE_GENERIC = 999  # the spec leaves >=100 to plugins


class Address(BaseModel):
    model_config = ConfigDict(extra="forbid")
    address: str = Field(description="the pod's address with prefix length, e.g. 10.1.1.5/24")
    gateway: str | None = None


class AddRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    container_id: str = Field(alias="containerID", min_length=1, max_length=256)
    ifname: str = Field(alias="ifName", min_length=1, max_length=15)
    netns: str = Field(min_length=1)
    pod_namespace: str = Field(default="", alias="podNamespace")
    pod_name: str = Field(default="", alias="podName")
    mode: Literal["tap", "memif"] = "tap"
    mtu: int = Field(default=0, ge=0, le=65535)
    addresses: list[Address] = Field(min_length=1)
    unnumbered_interface: str = Field(default="", alias="unnumberedInterface")
    memif_socket_dir: str = Field(default=DEFAULT_MEMIF_DIR, alias="memifSocketDir")
    # The IPAM plugin's result, kept so that a repeated ADD returns the same CNI result.
    ipam_result: dict[str, Any] = Field(default_factory=dict, alias="ipamResult")


class AddReply(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    vpp_interface: str = Field(alias="vppInterface")
    mode: str
    memif_socket: str = Field(default="", alias="memifSocket")
    netns: str = ""
    ipam_result: dict[str, Any] = Field(default_factory=dict, alias="ipamResult")


class ErrorReply(BaseModel):
    code: int
    msg: str
    details: str = ""
