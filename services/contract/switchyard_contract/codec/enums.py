"""The proto enums of switchyard.v1 <-> the Literal strings of the NodeConfig values (UNSPECIFIED
and unknown values are rejected on decode), and the codec's error."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from switchyard.v1 import nodeconfig_pb2 as pb

from .. import nodeconfig as nc

# gRPC's default limit on a received message is 4 MiB; chunks stay well below it. An object
# larger than the limit still travels alone in its chunk.
DEFAULT_CHUNK_BYTES: Final = 2 * 1024 * 1024


class CodecError(ValueError):
    """An object (or message) that cannot be converted; `key` is "" when not about one object."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}" if key else message)
        self.key = key
        self.message = message


PROTOCOL: Final[Mapping[str, pb.Protocol.ValueType]] = {
    "TCP": pb.PROTOCOL_TCP,
    "UDP": pb.PROTOCOL_UDP,
    "SCTP": pb.PROTOCOL_SCTP,
}
PROTOCOL_FROM: Final[Mapping[int, nc.Protocol]] = {
    pb.PROTOCOL_TCP: "TCP",
    pb.PROTOCOL_UDP: "UDP",
    pb.PROTOCOL_SCTP: "SCTP",
}
FRONTEND_KIND: Final[Mapping[str, pb.FrontendKind.ValueType]] = {
    "clusterIP": pb.FRONTEND_KIND_CLUSTER_IP,
    "nodePort": pb.FRONTEND_KIND_NODE_PORT,
    "externalIP": pb.FRONTEND_KIND_EXTERNAL_IP,
    "loadBalancerIP": pb.FRONTEND_KIND_LOAD_BALANCER_IP,
}
FRONTEND_KIND_FROM: Final[Mapping[int, nc.FrontendKind]] = {
    pb.FRONTEND_KIND_CLUSTER_IP: "clusterIP",
    pb.FRONTEND_KIND_NODE_PORT: "nodePort",
    pb.FRONTEND_KIND_EXTERNAL_IP: "externalIP",
    pb.FRONTEND_KIND_LOAD_BALANCER_IP: "loadBalancerIP",
}
INTERFACE_ROLE: Final[Mapping[str, pb.InterfaceRole.ValueType]] = {
    "uplink": pb.INTERFACE_ROLE_UPLINK,
    "pod": pb.INTERFACE_ROLE_POD,
}
INTERFACE_ROLE_FROM: Final[Mapping[int, nc.InterfaceRole]] = {
    pb.INTERFACE_ROLE_UPLINK: "uplink",
    pb.INTERFACE_ROLE_POD: "pod",
}
LB_ENCAP: Final[Mapping[str, pb.LbEncap.ValueType]] = {
    "gre4": pb.LB_ENCAP_GRE4,
    "gre6": pb.LB_ENCAP_GRE6,
    "l3dsr": pb.LB_ENCAP_L3DSR,
}
LB_ENCAP_FROM: Final[Mapping[int, nc.LbEncap]] = {
    pb.LB_ENCAP_GRE4: "gre4",
    pb.LB_ENCAP_GRE6: "gre6",
    pb.LB_ENCAP_L3DSR: "l3dsr",
}
LB_PROTOCOL: Final[Mapping[str, pb.LbProtocol.ValueType]] = {
    "TCP": pb.LB_PROTOCOL_TCP,
    "UDP": pb.LB_PROTOCOL_UDP,
    "Any": pb.LB_PROTOCOL_ANY,
}
LB_PROTOCOL_FROM: Final[Mapping[int, nc.LbProtocol]] = {
    pb.LB_PROTOCOL_TCP: "TCP",
    pb.LB_PROTOCOL_UDP: "UDP",
    pb.LB_PROTOCOL_ANY: "Any",
}
ACL_ACTION: Final[Mapping[int, pb.AclAction.ValueType]] = {
    0: pb.ACL_ACTION_DENY,
    1: pb.ACL_ACTION_PERMIT,
    2: pb.ACL_ACTION_PERMIT_REFLECT,
}
ACL_ACTION_FROM: Final[Mapping[int, nc.AclAction]] = {
    pb.ACL_ACTION_DENY: 0,
    pb.ACL_ACTION_PERMIT: 1,
    pb.ACL_ACTION_PERMIT_REFLECT: 2,
}
