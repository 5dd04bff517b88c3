"""What a node's agent must hold: keyed, immutable dataplane objects.

This is the contract between the compiler, the distribution (which maps each type one-to-one
to a protobuf message) and the agent's drivers (one descriptor per type). Keys are stable
strings "<kind>/<identity>"; two objects with the same key are the same dataplane object.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar, Literal

Protocol = Literal["TCP", "UDP", "SCTP"]
FrontendKind = Literal["clusterIP", "nodePort", "externalIP", "loadBalancerIP"]
InterfaceRole = Literal["uplink", "pod"]
LbEncap = Literal["gre4", "gre6", "l3dsr"]
LbProtocol = Literal["TCP", "UDP", "Any"]
# VPP ACL actions: 0 deny, 1 permit, 2 permit+reflect (stateful: replies pass).
AclAction = Literal[0, 1, 2]


@dataclass(frozen=True, slots=True)
class Backend:
    address: str
    port: int
    # 0 = draining: an endpoint that turned terminating; no new flows where the dataplane can
    # express it (cnat cannot: the VPP driver removes such backends).
    weight: int = 1


@dataclass(frozen=True, slots=True)
class ServiceFrontend:
    """One service address x port x protocol, rendered by the service proxy (cnat)."""

    KIND: ClassVar[str] = "frontend"
    address: str
    protocol: Protocol
    port: int
    kind: FrontendKind
    backends: tuple[Backend, ...]
    affinity_timeout: int = 0  # seconds of ClientIP affinity; 0 = off
    local_only: bool = False
    service: str = ""  # "namespace/name" of the owning service

    @property
    def key(self) -> str:
        return f"frontend/{self.protocol}/{self.address}/{self.port}"


@dataclass(frozen=True, slots=True)
class ManagedInterface:
    """An interface the agent manages: the service proxy feature is enabled on every one;
    pod interfaces are also in the SNAT POD table."""

    KIND: ClassVar[str] = "interface"
    name: str
    role: InterfaceRole

    @property
    def key(self) -> str:
        return f"interface/{self.name}"


@dataclass(frozen=True, slots=True)
class SnatConfig:
    """Node-outbound source NAT of pod traffic (one per node)."""

    KIND: ClassVar[str] = "snat"
    snat_ip4: str | None
    snat_ip6: str | None
    exclude_prefixes: tuple[str, ...]  # pod and service CIDRs, never source-NATed

    @property
    def key(self) -> str:
        return "snat"


@dataclass(frozen=True, slots=True)
class LbGlobal:
    """VPP lb plugin settings (lb_conf) on LB nodes."""

    KIND: ClassVar[str] = "lb-global"
    ip4_src: str | None
    ip6_src: str | None
    sticky_buckets_per_core: int
    flow_timeout: int

    @property
    def key(self) -> str:
        return "lb-global"


@dataclass(frozen=True, slots=True)
class LbServer:
    address: str
    weight: int = 1  # 0 = draining


@dataclass(frozen=True, slots=True)
class LbVip:
    KIND: ClassVar[str] = "lb-vip"
    prefix: str
    protocol: LbProtocol
    port: int  # 0 with protocol Any
    encap: LbEncap
    dscp: int | None
    new_flows_table_length: int
    servers: tuple[LbServer, ...]
    load_balancer: str = ""  # name of the owning LoadBalancer

    @property
    def key(self) -> str:
        return f"lb-vip/{self.protocol}/{self.prefix}/{self.port}"


@dataclass(frozen=True, slots=True)
class GreTunnel:
    """Decapsulation on a backend node of a GRE load balancer (talk option 1)."""

    KIND: ClassVar[str] = "gre"
    local: str  # this node's address
    remote: str  # the LB node's encap source address

    @property
    def key(self) -> str:
        return f"gre/{self.local}/{self.remote}"


@dataclass(frozen=True, slots=True)
class AclRule:
    action: AclAction
    src_prefix: str  # "0.0.0.0/0" / "::/0" for any
    dst_prefix: str
    proto: int = 0  # 0 any, 6 TCP, 17 UDP, 132 SCTP
    src_port_first: int = 0
    src_port_last: int = 65535
    dst_port_first: int = 0
    dst_port_last: int = 65535


@dataclass(frozen=True, slots=True)
class Acl:
    """An ordered rule list; first match wins. Keyed by a hash of its rules, so pods with the
    same effective policy share one ACL."""

    KIND: ClassVar[str] = "acl"
    name: str  # content hash
    rules: tuple[AclRule, ...]

    @property
    def key(self) -> str:
        return f"acl/{self.name}"


@dataclass(frozen=True, slots=True)
class AclBinding:
    """The ACL lists of one interface (VPP acl_interface_set_acl_list): input first."""

    KIND: ClassVar[str] = "acl-binding"
    interface: str
    input_acls: tuple[str, ...]  # Acl.name values, in evaluation order
    output_acls: tuple[str, ...]

    @property
    def key(self) -> str:
        return f"acl-binding/{self.interface}"


@dataclass(frozen=True, slots=True)
class NextHop:
    address: str
    interface: str = ""  # empty: resolve through the FIB


@dataclass(frozen=True, slots=True)
class Route:
    KIND: ClassVar[str] = "route"
    prefix: str
    next_hops: tuple[NextHop, ...]  # more than one: ECMP

    @property
    def key(self) -> str:
        return f"route/{self.prefix}"


@dataclass(frozen=True, slots=True)
class BgpGlobal:
    KIND: ClassVar[str] = "bgp-global"
    asn: int
    router_id: str
    listen_port: int = 179

    @property
    def key(self) -> str:
        return "bgp-global"


@dataclass(frozen=True, slots=True)
class BgpPeer:
    KIND: ClassVar[str] = "bgp-peer"
    address: str
    asn: int
    password: str | None = None
    multihop_ttl: int = 0
    route_reflector_client: bool = False
    hold_time: int = 9
    keepalive: int = 3
    families: tuple[str, ...] = ("ipv4-unicast", "ipv6-unicast")

    @property
    def key(self) -> str:
        return f"bgp-peer/{self.address}"


@dataclass(frozen=True, slots=True)
class BgpAnnouncement:
    KIND: ClassVar[str] = "bgp-path"
    prefix: str
    next_hop: str
    communities: tuple[str, ...] = ()  # "ASN:VALUE"

    @property
    def key(self) -> str:
        return f"bgp-path/{self.prefix}"


NodeObject = (
    ServiceFrontend
    | ManagedInterface
    | SnatConfig
    | LbGlobal
    | LbVip
    | GreTunnel
    | Acl
    | AclBinding
    | Route
    | BgpGlobal
    | BgpPeer
    | BgpAnnouncement
)
OBJECT_TYPES: tuple[type[NodeObject], ...] = (
    ServiceFrontend,
    ManagedInterface,
    SnatConfig,
    LbGlobal,
    LbVip,
    GreTunnel,
    Acl,
    AclBinding,
    Route,
    BgpGlobal,
    BgpPeer,
    BgpAnnouncement,
)


@dataclass(frozen=True, slots=True)
class NodeConfig:
    node: str
    objects: Mapping[str, NodeObject] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class NodeDelta:
    """What changed for one node: objects to create or replace, keys to remove."""

    node: str
    upserts: Mapping[str, NodeObject]
    removals: frozenset[str]

    def is_empty(self) -> bool:
        return not self.upserts and not self.removals
