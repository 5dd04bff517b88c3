"""The VPP API emulator through the real vpp_papi client: cnat, lb, acl, gre and ip routes
behave as VPP does (../shared/notes/)."""

from __future__ import annotations

from typing import Any

import pytest
from vpp_papi import VPPApiClient

from tests.emulator.messages import acl_rule, fib_path, routes, translation
from tests.vppemu.harness import Emulator

pytestmark = pytest.mark.vpp_api

U32_MAX = 0xFFFFFFFF
NO_SUCH_ENTRY, VALUE_EXIST, UNIMPLEMENTED = -6, -81, -9
INVALID_SW_IF_INDEX, INVALID_MEMORY_SIZE = -2, -70
ACL_IN_USE_INBOUND, NO_SUCH_FIB, IF_ALREADY_EXISTS = -142, -3, -79


# -- protocol ---------------------------------------------------------------


def test_cnat_translation_upsert_ids_and_dump_quirks(emu: Emulator, vpp: Any) -> None:
    r = vpp.cnat_translation_update(
        translation=translation(
            "10.96.0.10",
            53,
            ["10.1.0.1", "10.1.0.2"],
            proto=17,
            lb_type=1,
            flow_hash_config=0x01,
            is_real_ip=0,
            id=77,
        )
    )
    assert (r.retval, r.id) == (0, 0)  # the id sent is ignored
    r2 = vpp.cnat_translation_update(translation=translation("10.96.0.11", 80, ["10.1.0.3"]))
    assert r2.id == 1
    # Same (vip, port, proto): an upsert. Paths are replaced; lb_type and
    # flow_hash_config changes are silently ignored after creation.
    r3 = vpp.cnat_translation_update(
        translation=translation(
            "10.96.0.10", 53, ["10.1.0.9"], proto=17, lb_type=0, flow_hash_config=0x1F
        )
    )
    assert r3.id == 0
    (d0, d1) = vpp.cnat_translation_dump()
    t0 = d0.translation
    assert (t0.id, str(t0.vip.addr), t0.vip.port, int(t0.ip_proto)) == (0, "10.96.0.10", 53, 17)
    assert [str(p.dst_ep.addr) for p in t0.paths] == ["10.1.0.9"]
    assert t0.paths[0].dst_ep.port == 8080
    assert int(t0.lb_type) == 1
    assert (t0.is_real_ip, t0.flags, int(t0.flow_hash_config)) == (0, 0, 0)
    assert d1.translation.id == 1
    programmed = emu.state()["cnat"]["translations"][0]
    assert programmed["flow_hash_config"] == 0x01 and programmed["lb_type"] == 1
    # Delete, unknown delete, and lowest-free id reuse.
    assert vpp.cnat_translation_del(id=0).retval == 0
    assert vpp.cnat_translation_del(id=0).retval == NO_SUCH_ENTRY
    r4 = vpp.cnat_translation_update(translation=translation("10.96.0.12", 443, ["10.1.0.4"]))
    assert r4.id == 0
    # Same VIP and port but another protocol is another translation.
    r5 = vpp.cnat_translation_update(
        translation=translation("10.96.0.11", 80, ["10.1.0.3"], proto=17)
    )
    assert r5.id == 2


def test_cnat_snat_policy_and_features(emu: Emulator, vpp: Any) -> None:
    pod = emu.add_interface("memif0/1")
    assert (
        vpp.cnat_set_snat_addresses_v2(
            snat_ip4="192.168.1.10", snat_ip6="fd00::10", sw_if_index=U32_MAX, flags=2
        ).retval
        == 0
    )
    got = vpp.cnat_get_snat_addresses()
    assert (str(got.snat_ip4), str(got.snat_ip6)) == ("192.168.1.10", "fd00::10")
    assert vpp.cnat_set_snat_policy(policy=2).retval == 0
    for table in (0, 1, 2):
        assert vpp.cnat_snat_policy_add_del_if(sw_if_index=pod, is_add=1, table=table).retval == 0
    assert vpp.cnat_snat_policy_add_del_if(sw_if_index=pod, is_add=1, table=9).retval == -7
    assert vpp.cnat_snat_policy_add_del_exclude_pfx(is_add=1, prefix="10.0.0.0/8").retval == 0
    assert vpp.feature_cnat_enable_disable(sw_if_index=pod, enable_disable=True).retval == 0
    cnat = emu.state()["cnat"]
    assert cnat["snat_policy"] == 2 and cnat["snat"]["flags"] == 2
    assert cnat["snat_if_tables"] == [[pod], [pod], [pod], []]
    assert cnat["exclude_prefixes"] == ["10.0.0.0/8"]
    assert cnat["feature_interfaces"] == [pod]


def test_cnat_session_purge_deletes_all_translations(vpp: Any) -> None:
    vpp.cnat_translation_update(translation=translation("10.96.0.1", 80, ["10.1.0.1"]))
    assert vpp.cnat_session_purge().retval == 0
    assert vpp.cnat_translation_dump() == []


def test_cnat_zero_paths_crashes_vpp(emu: Emulator, vpp: Any, client: VPPApiClient) -> None:
    emu.add_interface("uplink0")
    pid_before = vpp.control_ping().vpe_pid
    vpp.cnat_translation_update(translation=translation("10.96.0.1", 80, ["10.1.0.1"]))
    with pytest.raises((OSError, client.VPPIOError)):
        vpp.cnat_translation_update(translation=translation("10.96.0.2", 80, []))
    state = emu.state()
    assert state["crashes"] == 1 and state["cnat"]["translations"] == []
    assert [i["name"] for i in state["interfaces"]] == ["local0"]
    client.disconnect()
    client.connect("pytest")
    assert client.api.cnat_translation_dump() == []
    # A crashed VPP comes back as a new process: drivers detect the restart by vpe_pid.
    assert client.api.control_ping().vpe_pid != pid_before


# -- lb ------------------------------------------------------------------------------


def test_lb_vips_and_application_servers(emu: Emulator, vpp: Any) -> None:
    assert vpp.lb_conf(ip4_src_address="192.168.1.10", ip6_src_address="fd00::10").retval == 0
    vip = {"pfx": "203.0.113.10/32", "protocol": 6, "port": 80}
    assert vpp.lb_add_del_vip_v2(**vip, encap=0, new_flows_table_length=1024).retval == 0
    assert vpp.lb_add_del_vip_v2(**vip, encap=0, new_flows_table_length=1024).retval == (
        VALUE_EXIST
    )
    bad = vpp.lb_add_del_vip_v2(
        pfx="203.0.113.11/32", protocol=6, port=80, encap=0, new_flows_table_length=1000
    )
    assert bad.retval == INVALID_MEMORY_SIZE
    assert (
        vpp.lb_add_del_vip_v2(pfx="203.0.113.20/32", protocol=17, port=53, encap=2, dscp=10).retval
        == 0
    )
    assert (
        vpp.lb_add_del_vip_v2(
            pfx="203.0.113.30/32", protocol=6, port=80, encap=3, target_port=80
        ).retval
        == 0
    )
    assert vpp.lb_add_del_vip_v2(pfx="2001:db8::10/128", protocol=6, port=443, encap=1).retval == 0
    for backend in ("10.0.0.1", "10.0.0.2"):
        assert vpp.lb_add_del_as(**vip, as_address=backend).retval == 0
    assert vpp.lb_add_del_as(**vip, as_address="10.0.0.1").retval == VALUE_EXIST
    assert (
        vpp.lb_add_del_as(pfx="198.51.100.1/32", protocol=6, port=80, as_address="10.0.0.1").retval
        == NO_SUCH_ENTRY
    )
    assert (
        vpp.lb_add_del_as(
            pfx="2001:db8::10/128", protocol=6, port=443, as_address="2001:db8:1::1"
        ).retval
        == 0
    )
    # lb_vip_dump ignores its filter; target_port comes back byte-swapped.
    vips = vpp.lb_vip_dump(pfx="203.0.113.20/32", protocol=17, port=53)
    assert len(vips) == 4
    by_addr = {str(v.vip.pfx.network.network_address): v for v in vips}
    assert by_addr["203.0.113.30"].target_port == 20480
    assert int(by_addr["203.0.113.20"].dscp) == 10 and int(by_addr["203.0.113.20"].encap) == 2
    assert by_addr["203.0.113.10"].flow_table_length == 1024
    # lb_as_dump: a filter on an IPv4 VIP returns nothing; unfiltered returns all.
    assert vpp.lb_as_dump(**vip) == []
    assert len(vpp.lb_as_dump()) == 3
    v6 = vpp.lb_as_dump(pfx="2001:db8::10/128", protocol=6, port=443)
    assert [str(a.app_srv) for a in v6] == ["2001:db8:1::1"]
    # A deleted AS lingers (flags 0) until the VIP's garbage collection.
    assert vpp.lb_add_del_as(**vip, as_address="10.0.0.2", is_del=True).retval == 0
    flags = {
        str(a.app_srv): a.flags
        for a in vpp.lb_as_dump()
        if a.vip.port == 80 and str(a.vip.pfx.ip) == "203.0.113.10"
    }
    assert flags == {"10.0.0.1": 1, "10.0.0.2": 0}
    assert vpp.lb_add_del_as(**vip, as_address="10.0.0.2").retval == 0  # re-used
    assert vpp.lb_add_del_vip_v2(**vip, is_del=True).retval == 0
    assert vpp.lb_add_del_vip_v2(**vip, is_del=True).retval == NO_SUCH_ENTRY
    assert len(emu.state()["lb"]["vips"]) == 3


def test_lb_weighted_servers_when_defined(vpp: Any) -> None:
    if not hasattr(vpp, "lb_add_del_as_v2"):
        pytest.skip("definitions predate weighted application servers")
    vip = {"pfx": "203.0.113.10/32", "protocol": 6, "port": 80}
    vpp.lb_add_del_vip_v2(**vip, encap=0, new_flows_table_length=16)
    assert vpp.lb_add_del_as_v2(**vip, as_address="10.0.0.1", weight=100).retval == 0
    assert vpp.lb_add_del_as_v2(**vip, as_address="10.0.0.2", weight=100).retval == 0
    assert vpp.lb_as_set_weight(**vip, as_address="10.0.0.2", weight=0).retval == 0
    assert vpp.lb_as_set_weight(**vip, as_address="10.0.0.9", weight=5).retval == NO_SUCH_ENTRY
    rows = {str(a.app_srv): (a.weight, a.num_buckets) for a in vpp.lb_as_v2_dump()}
    assert rows == {"10.0.0.1": (100, 16), "10.0.0.2": (0, 0)}


# -- acl ------------------------------------------------------------------------------


def test_acl_lifecycle(emu: Emulator, vpp: Any) -> None:
    pod = emu.add_interface("memif0/1")
    a0 = vpp.acl_add_replace(
        acl_index=U32_MAX, tag="pod-a", count=1, r=[acl_rule(2, "10.1.0.0/16", 80)]
    )
    a1 = vpp.acl_add_replace(acl_index=U32_MAX, tag="global", count=0, r=[])
    assert (a0.retval, a0.acl_index, a1.acl_index) == (0, 0, 1)
    assert vpp.acl_add_replace(acl_index=7, tag="x", count=0, r=[]).retval == NO_SUCH_ENTRY
    replaced = vpp.acl_add_replace(
        acl_index=0,
        tag="pod-a2",
        count=2,
        r=[acl_rule(1, "10.1.0.0/16", 80), acl_rule(0, "0.0.0.0/0", 22)],
    )
    assert (replaced.retval, replaced.acl_index) == (0, 0)
    assert (
        vpp.acl_interface_set_acl_list(sw_if_index=pod, count=2, n_input=1, acls=[0, 9]).retval
        == NO_SUCH_ENTRY
    )
    assert (
        vpp.acl_interface_set_acl_list(sw_if_index=pod, count=2, n_input=1, acls=[0, 1]).retval == 0
    )
    assert vpp.acl_del(acl_index=0).retval == ACL_IN_USE_INBOUND
    (details,) = vpp.acl_dump(acl_index=0)
    assert details.tag == "pod-a2" and details.count == 2
    assert str(details.r[0].dst_prefix) == "10.1.0.0/16" and int(details.r[0].is_permit) == 1
    assert [d.acl_index for d in vpp.acl_dump(acl_index=U32_MAX)] == [0, 1]
    lists = {
        d.sw_if_index: (d.n_input, list(d.acls))
        for d in vpp.acl_interface_list_dump(sw_if_index=U32_MAX)
    }
    assert lists == {0: (0, []), pod: (1, [0, 1])}
    assert vpp.acl_interface_set_acl_list(sw_if_index=pod, count=0, n_input=0, acls=[]).retval == 0
    assert vpp.acl_del(acl_index=0).retval == 0
    assert vpp.acl_add_replace(acl_index=U32_MAX, tag="new", count=0, r=[]).acl_index == 0


# -- gre and ip ---------------------------------------------------------------------------


def test_gre_tunnels_are_interfaces(vpp: Any) -> None:
    tunnel = {"src": "192.168.1.10", "dst": "192.168.1.20", "instance": U32_MAX}
    r = vpp.gre_tunnel_add_del(is_add=True, tunnel=tunnel)
    assert (r.retval, r.sw_if_index) == (0, 1)
    assert vpp.gre_tunnel_add_del(is_add=True, tunnel=tunnel).retval == IF_ALREADY_EXISTS
    names = [d.interface_name for d in vpp.sw_interface_dump()]
    assert names == ["local0", "gre0"]
    (t,) = vpp.gre_tunnel_dump(sw_if_index=U32_MAX)
    assert (t.tunnel.sw_if_index, str(t.tunnel.dst), t.tunnel.instance) == (1, "192.168.1.20", 0)
    assert vpp.gre_tunnel_add_del(is_add=False, tunnel=tunnel).retval == 0
    assert [d.interface_name for d in vpp.sw_interface_dump()] == ["local0"]
    assert vpp.gre_tunnel_add_del(is_add=False, tunnel=tunnel).retval == NO_SUCH_ENTRY


def test_ip_routes_multipath(vpp: Any) -> None:
    pfx = "198.51.100.0/24"
    for nh in ("192.168.1.1", "192.168.1.2"):
        r = vpp.ip_route_add_del(
            is_add=True,
            is_multipath=True,
            route={"table_id": 0, "prefix": pfx, "n_paths": 1, "paths": [fib_path(nh)]},
        )
        assert r.retval == 0
    assert routes(vpp)[pfx] == ["192.168.1.1", "192.168.1.2"]
    assert "0.0.0.0/0" in routes(vpp)  # VPP's default entries are dumped too
    vpp.ip_route_add_del(
        is_add=True,
        is_multipath=False,
        route={"table_id": 0, "prefix": pfx, "n_paths": 1, "paths": [fib_path("192.168.1.3")]},
    )
    assert routes(vpp)[pfx] == ["192.168.1.3"]
    vpp.ip_route_add_del(
        is_add=False,
        is_multipath=True,
        route={"table_id": 0, "prefix": pfx, "n_paths": 1, "paths": [fib_path("192.168.1.3")]},
    )
    assert pfx not in routes(vpp)
    v6 = "2001:db8:100::/48"
    vpp.ip_route_add_del(
        is_add=True,
        route={"table_id": 0, "prefix": v6, "n_paths": 1, "paths": [fib_path("fd00::1")]},
    )
    assert routes(vpp, is_ip6=True)[v6] == ["fd00::1"]
    assert (
        vpp.ip_route_add_del(
            is_add=True,
            route={"table_id": 10, "prefix": pfx, "n_paths": 1, "paths": [fib_path("192.168.1.1")]},
        ).retval
        == NO_SUCH_FIB
    )
    assert vpp.ip_table_add_del(is_add=True, table={"table_id": 10}).retval == 0
    assert (
        vpp.ip_route_add_del(
            is_add=True,
            route={"table_id": 10, "prefix": pfx, "n_paths": 1, "paths": [fib_path("192.168.1.1")]},
        ).retval
        == 0
    )
    assert routes(vpp, table_id=10) == {pfx: ["192.168.1.1"]}


# -- failure injection, unimplemented, incompatible VPP, crashes -------------------
