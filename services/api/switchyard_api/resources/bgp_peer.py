"""BgpPeer: a BGP neighbour of the nodes its selector matches."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from .common import ASN, IPAddress, LabelSelector, SafeStr, StrictModel

Family = Literal["ipv4-unicast", "ipv6-unicast"]
_BOTH_FAMILIES: list[Family] = ["ipv4-unicast", "ipv6-unicast"]


class BgpPeerSpec(StrictModel):
    peerIP: IPAddress
    asNumber: ASN
    nodeSelector: LabelSelector = Field(
        default_factory=LabelSelector, description="empty: every node"
    )
    password: Annotated[SafeStr, Field(min_length=1, max_length=80)] | None = Field(
        default=None, description="TCP MD5 password; write-only, never returned"
    )
    multihopTTL: Annotated[int, Field(ge=0, le=255)] = Field(
        default=0, description="eBGP multihop TTL, 0: directly connected"
    )
    routeReflectorClient: bool = False
    holdTimeSeconds: Annotated[int, Field(ge=3, le=65535)] = 9
    keepaliveSeconds: Annotated[int, Field(ge=1, le=21845)] = 3
    families: list[Family] = Field(
        default_factory=lambda: _BOTH_FAMILIES.copy(),
        min_length=1,
        json_schema_extra={"uniqueItems": True},
    )

    @model_validator(mode="after")
    def _timers(self) -> BgpPeerSpec:
        if self.keepaliveSeconds * 3 > self.holdTimeSeconds:
            raise ValueError("keepaliveSeconds must be at most a third of holdTimeSeconds")
        if len(set(self.families)) != len(self.families):
            raise ValueError("families: duplicate entry")
        return self
