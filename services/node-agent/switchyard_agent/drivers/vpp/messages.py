"""The VPP API messages this driver uses, pinned to the CRCs it was written against.

The CRCs are those of the definitions in shared/vpp-api (VPP 26.10-rc0~374-gb575ec2c56d). A
running VPP whose message table lacks one of the REQUIRED messages, or carries it with another
CRC (its layout changed), is refused at start-up: vpp_papi would silently leave such a message
unbound. OPTIONAL messages are used when present with the pinned CRC (weighted lb servers,
added after VPP 26.06; interface events); otherwise the driver falls back.

Each request is listed with its reply (or, for a dump, its details message).
"""

from __future__ import annotations

REQUIRED: dict[str, str] = {
    "control_ping": "0x51077d14",
    "control_ping_reply": "0xf6b0b8ca",
    "show_version": "0x51077d14",
    "show_version_reply": "0xc919bde1",
    "sw_interface_dump": "0xaa610c27",
    "sw_interface_details": "0x6c221fc7",
    "sw_interface_set_flags": "0xf5aec1b8",
    "sw_interface_set_flags_reply": "0xe8d4e804",
    "feature_cnat_enable_disable": "0x5501adee",
    "feature_cnat_enable_disable_reply": "0xe8d4e804",
    "cnat_snat_policy_add_del_if": "0x4ebb8d02",
    "cnat_snat_policy_add_del_if_reply": "0xe8d4e804",
    "cnat_set_snat_addresses_v2": "0xc0125c26",
    "cnat_set_snat_addresses_v2_reply": "0xe8d4e804",
    "cnat_get_snat_addresses": "0x51077d14",
    "cnat_get_snat_addresses_reply": "0x879513c1",
    "cnat_set_snat_policy": "0x37a3ce23",
    "cnat_set_snat_policy_reply": "0xe8d4e804",
    "cnat_snat_policy_add_del_exclude_pfx": "0xe26dd79a",
    "cnat_snat_policy_add_del_exclude_pfx_reply": "0xe8d4e804",
    "cnat_translation_update": "0xf8d40bc5",
    "cnat_translation_update_reply": "0xe2fc8294",
    "cnat_translation_del": "0x3a91bde5",
    "cnat_translation_del_reply": "0xe8d4e804",
    "cnat_translation_dump": "0x51077d14",
    "cnat_translation_details": "0x1a5140b7",
    "lb_conf": "0x56cd3261",
    "lb_conf_reply": "0xe8d4e804",
    "lb_conf_get": "0x51077d14",
    "lb_conf_get_reply": "0x923427ac",
    "lb_add_del_vip_v2": "0x7c520e0f",
    "lb_add_del_vip_v2_reply": "0xe8d4e804",
    "lb_add_del_as": "0x35d72500",
    "lb_add_del_as_reply": "0xe8d4e804",
    "lb_as_dump": "0x1063f819",
    "lb_as_details": "0x8d24c29e",
    "lb_vip_dump": "0x56110cb7",
    "lb_vip_details": "0x1329ec9b",
    "gre_tunnel_add_del": "0xa27d7f17",
    "gre_tunnel_add_del_reply": "0x5383d31f",
    "gre_tunnel_dump": "0xf9e6675e",
    "gre_tunnel_details": "0x24435433",
    "acl_add_replace": "0xee5c2f18",
    "acl_add_replace_reply": "0xac407b0c",
    "acl_del": "0xef34fea4",
    "acl_del_reply": "0xe8d4e804",
    "acl_dump": "0xef34fea4",
    "acl_details": "0x95babae0",
    "acl_interface_set_acl_list": "0x473982bd",
    "acl_interface_set_acl_list_reply": "0xe8d4e804",
    "acl_interface_list_dump": "0xf9e6675e",
    "acl_interface_list_details": "0xe695d256",
    "ip_route_add_del": "0xb8ecfe0d",
    "ip_route_add_del_reply": "0x1992deab",
    "ip_route_dump": "0xb9d2e09e",
    "ip_route_details": "0xbda8f315",
    # Pod attachment (CNI): tapv2 and memif plugins, interface addressing.
    "tap_create_v3": "0x3f3fd1df",
    "tap_create_v3_reply": "0x5383d31f",
    "tap_delete_v2": "0xf9e6675e",
    "tap_delete_v2_reply": "0xe8d4e804",
    "memif_socket_filename_add_del_v2": "0x34223bdf",
    "memif_socket_filename_add_del_v2_reply": "0x9f29bdb9",
    "memif_create_v2": "0x8c7de5f7",
    "memif_create_v2_reply": "0x5383d31f",
    "memif_delete": "0xf9e6675e",
    "memif_delete_reply": "0xe8d4e804",
    "memif_dump": "0x51077d14",
    "memif_details": "0xda34feb9",
    "sw_interface_set_unnumbered": "0x154a6439",
    "sw_interface_set_unnumbered_reply": "0xe8d4e804",
    "sw_interface_tag_add_del": "0x426f8bc1",
    "sw_interface_tag_add_del_reply": "0xe8d4e804",
}
OPTIONAL: dict[str, str] = {
    "lb_add_del_as_v2": "0x2f1d3b0e",
    "lb_add_del_as_v2_reply": "0xe8d4e804",
    "lb_as_set_weight": "0x2d89bdbd",
    "lb_as_set_weight_reply": "0xe8d4e804",
    "lb_as_v2_dump": "0x1063f819",
    "lb_as_v2_details": "0x90064aae",
    # Interface events: without them, new interfaces are found by the periodic dump only.
    "want_interface_events": "0x476f5a08",
    "want_interface_events_reply": "0xe8d4e804",
    "sw_interface_event": "0x2d3d95a7",
}


def table_key(name: str, crc: str) -> str:
    """The key of a message in VPP's message table (sockclnt_create_reply)."""
    return f"{name}_{crc[2:]}"
