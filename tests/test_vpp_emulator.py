"""The VPP API emulator, driven through the real vpp_papi client."""

from __future__ import annotations

import ipaddress
import socket
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from vpp_papi import VPPApiClient

try:
    from tests.vppemu.harness import Emulator
except ImportError:  # tests/ is on sys.path instead of the repo root
    from vppemu.harness import Emulator  # type: ignore[no-redef]

pytestmark = pytest.mark.vpp_api

U32_MAX = 0xFFFFFFFF
NO_SUCH_ENTRY, VALUE_EXIST, UNIMPLEMENTED = -6, -81, -9
INVALID_SW_IF_INDEX, INVALID_MEMORY_SIZE = -2, -70
ACL_IN_USE_INBOUND, NO_SUCH_FIB, IF_ALREADY_EXISTS = -142, -3, -79


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    emulator = Emulator(tmp_path_factory.mktemp("vppemu")).start()
    yield emulator
    emulator.stop()


@pytest.fixture(scope="module")
def client(emu: Emulator) -> VPPApiClient:
    return VPPApiClient(apidir=str(emu.apidir), server_address=str(emu.socket_path))


@pytest.fixture
def vpp(emu: Emulator, client: VPPApiClient) -> Iterator[Any]:
    """A connected client to a fresh (empty) emulated VPP."""
    if not emu.running:
        emu.start()
    emu.reset()
    client.connect("pytest")
    yield client.api
    client.disconnect()


def endpoint(addr: str, port: int = 0) -> dict[str, Any]:
    return {"addr": addr, "sw_if_index": U32_MAX, "port": port}


def translation(vip: str, port: int, backends: list[str], proto: int = 6, **kw: Any) -> Any:
    paths = [{"dst_ep": endpoint(b, 8080), "src_ep": endpoint("0.0.0.0")} for b in backends]
    return {
        "vip": endpoint(vip, port),
        "ip_proto": proto,
        "n_paths": len(paths),
        "paths": paths,
        **kw,
    }


# -- protocol ---------------------------------------------------------------


def test_handshake_version_and_counts(emu: Emulator, vpp: Any, client: VPPApiClient) -> None:
    table = client.transport.message_table
    crc = client.messages["sockclnt_create"].crc[2:]
    assert table[f"sockclnt_create_{crc}"] == 15
    assert len(table) == 1089
    r = vpp.show_version()
    assert r.retval == 0 and r.version == "26.10-rc0~374-gb575ec2c56d"
    assert vpp.control_ping().retval == 0
    counts = emu.call_counts()
    assert counts["sockclnt_create"] == 1 and counts["show_version"] == 1
    assert counts["control_ping"] == 1
    emu.reset_counts()
    vpp.sw_interface_dump()  # a dump is followed by a control_ping
    assert emu.call_counts() == {"sw_interface_dump": 1, "control_ping": 1}


def test_bootstrap_api_from_get_api_json(emu: Emulator) -> None:
    emu.reset()
    boot = VPPApiClient(bootstrapapi=True, server_address=str(emu.socket_path))
    boot.connect("bootstrap")
    try:
        assert boot.api.show_version().version.startswith("26.10")
        r = boot.api.cnat_translation_update(translation=translation("10.96.0.1", 80, ["10.1.0.1"]))
        assert r.retval == 0
        assert len(boot.api.cnat_translation_dump()) == 1
    finally:
        boot.disconnect()
    assert emu.call_counts()["get_api_json"] == 1


def test_pipelined_requests_are_answered_in_order(
    emu: Emulator, vpp: Any, client: VPPApiClient
) -> None:
    msg = client.messages["cnat_translation_update"]
    ping = client.messages["control_ping"]
    dump = client.messages["cnat_translation_dump"]
    index = client.transport.get_msg_index
    header = struct.Struct(">QII")
    frames = []
    for i in range(200):
        b = msg.pack(
            {
                "_vl_msg_id": index(f"cnat_translation_update_{msg.crc[2:]}"),
                "client_index": 1,
                "context": 1000 + i,
                "translation": translation(f"10.96.1.{i}", 80, ["10.1.0.1"]),
            }
        )
        frames.append(header.pack(0, len(b), 0) + b)
    for m, name in ((dump, "cnat_translation_dump"), (ping, "control_ping")):
        b = m.pack({"_vl_msg_id": index(f"{name}_{m.crc[2:]}"), "client_index": 1, "context": 5000})
        frames.append(header.pack(0, len(b), 0) + b)
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(10)
        s.connect(str(emu.socket_path))
        s.sendall(b"".join(frames))  # all at once, without waiting
        contexts = []
        buf = b""
        while len(contexts) < 200 + 200 + 1:
            while len(buf) < 16 or len(buf) < 16 + header.unpack_from(buf)[1]:
                buf += s.recv(1 << 16)
            n = header.unpack_from(buf)[1]
            body, buf = buf[16 : 16 + n], buf[16 + n :]
            contexts.append(struct.unpack_from(">HI", body)[1])
    assert contexts[:200] == list(range(1000, 1200))
    assert contexts[200:] == [5000] * 201  # 200 details + the ping reply


# -- interfaces --------------------------------------------------------------


def test_interfaces_dump_filter_and_validation(emu: Emulator, vpp: Any) -> None:
    uplink = emu.add_interface("uplink0")
    pod = emu.add_interface("memif0/1")
    assert (uplink, pod) == (1, 2)
    names = {d.sw_if_index: d.interface_name for d in vpp.sw_interface_dump()}
    assert names == {0: "local0", 1: "uplink0", 2: "memif0/1"}
    only = vpp.sw_interface_dump(name_filter_valid=True, name_filter="memif")
    assert [d.interface_name for d in only] == ["memif0/1"]
    assert [d.sw_if_index for d in vpp.sw_interface_dump(sw_if_index=1)] == [1]
    assert vpp.feature_cnat_enable_disable(sw_if_index=99, enable_disable=True).retval == (
        INVALID_SW_IF_INDEX
    )
    assert vpp.sw_interface_set_flags(sw_if_index=pod, flags=1).retval == 0


# -- cnat ------------------------------------------------------------------------


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


def acl_rule(action: int, dst: str, port: int) -> dict[str, Any]:
    return {
        "is_permit": action,
        "src_prefix": "0.0.0.0/0",
        "dst_prefix": dst,
        "proto": 6,
        "srcport_or_icmptype_first": 0,
        "srcport_or_icmptype_last": 65535,
        "dstport_or_icmpcode_first": port,
        "dstport_or_icmpcode_last": port,
    }


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


def fib_path(nh: str, sw_if_index: int = U32_MAX) -> dict[str, Any]:
    ip6 = ipaddress.ip_address(nh).version == 6
    return {
        "sw_if_index": sw_if_index,
        "weight": 1,
        "proto": int(ip6),
        "nh": {"address": {"ip6" if ip6 else "ip4": nh}},
        "label_stack": [{}] * 16,
    }


def routes(vpp: Any, table_id: int = 0, is_ip6: bool = False) -> dict[str, list[str]]:
    out = {}
    for d in vpp.ip_route_dump(table={"table_id": table_id, "is_ip6": is_ip6}):
        r = d.route
        out[str(r.prefix)] = [
            str(p.nh.address.ip6 if int(p.proto) else p.nh.address.ip4)
            for p in r.paths
            if int(p.type) == 0
        ]
    return out


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


def test_inject_failure(emu: Emulator, vpp: Any) -> None:
    emu.inject_failure("cnat_translation_update", retval=VALUE_EXIST, times=2)
    for _ in range(2):
        r = vpp.cnat_translation_update(translation=translation("10.96.0.1", 80, ["10.1.0.1"]))
        assert r.retval == VALUE_EXIST
    assert emu.state()["cnat"]["translations"] == []
    r = vpp.cnat_translation_update(translation=translation("10.96.0.1", 80, ["10.1.0.1"]))
    assert (r.retval, r.id) == (0, 0)
    assert emu.call_counts()["cnat_translation_update"] == 3


def test_unimplemented_message(emu: Emulator, vpp: Any) -> None:
    assert vpp.sw_interface_set_mtu(sw_if_index=0, mtu=[1500, 0, 0, 0]).retval == UNIMPLEMENTED
    assert vpp.cnat_translation_dump() == []
    # An unimplemented dump yields no details (the control_ping still answers).
    assert vpp.ip_address_dump(sw_if_index=0, is_ipv6=False) == []
    assert emu.unimplemented() == ["sw_interface_set_mtu", "ip_address_dump"]


def test_dropped_and_corrupted_messages_are_not_bound(tmp_path: Path) -> None:
    with Emulator(
        tmp_path, drop_messages=["lb_as_set_weight"], corrupt_crcs=["lb_add_del_as_v2"]
    ) as emu:
        c = VPPApiClient(apidir=str(emu.apidir), server_address=str(emu.socket_path))
        c.connect("incompatible")
        try:
            assert not hasattr(c.api, "lb_as_set_weight")
            assert not hasattr(c.api, "lb_add_del_as_v2")
            assert hasattr(c.api, "lb_add_del_as")
            wanted = [
                f"{n}_{c.messages[n].crc[2:]}"
                for n in ("lb_as_set_weight", "lb_add_del_as_v2", "lb_add_del_as")
            ]
            missing = c.validate_message_table(wanted)
            assert sorted(missing) == sorted(wanted[:2])
        finally:
            c.disconnect()


def test_kill_and_restart_empty(tmp_path: Path, client: VPPApiClient) -> None:
    emu = Emulator(tmp_path).start()
    try:
        c = VPPApiClient(apidir=str(emu.apidir), server_address=str(emu.socket_path))
        c.connect("crashy")
        c.api.cnat_translation_update(translation=translation("10.96.0.1", 80, ["10.1.0.1"]))
        emu.kill()
        with pytest.raises((OSError, c.VPPIOError)):
            c.api.cnat_translation_dump()
        c.disconnect()
        emu.restart()
        c.connect("crashy")
        assert c.api.cnat_translation_dump() == []
        assert emu.state()["cnat"]["translations"] == []
        c.disconnect()
    finally:
        emu.stop()


def test_codec_fast_paths_match_vpp_papi(emu: Emulator) -> None:
    try:
        from tests.vppemu.codec import message_decoder, message_encoder
        from tests.vppemu.definitions import ApiDefinitions
    except ImportError:
        from vppemu.codec import message_decoder, message_encoder  # type: ignore[no-redef]
        from vppemu.definitions import ApiDefinitions  # type: ignore[no-redef]
    api = ApiDefinitions(emu.apidir)
    samples = {
        "cnat_translation_update": {
            "translation": translation(
                "10.96.0.10", 53, ["10.1.0.1", "fd00::1"], proto=17, lb_type=1
            )
        },
        "acl_add_replace": {
            "acl_index": 3,
            "tag": "t",
            "count": 1,
            "r": [acl_rule(2, "10.1.0.0/16", 80)],
        },
        "ip_route_add_del": {
            "route": {"prefix": "2001:db8::/32", "n_paths": 1, "paths": [fib_path("fd00::1")]}
        },
        "sw_interface_dump": {"name_filter_valid": True, "name_filter": "memif"},
    }
    checked = 0
    for mdef in api.by_id:
        if mdef is None:
            continue
        fields = {"_vl_msg_id": mdef.id, "context": 7, **samples.get(mdef.name, {})}
        try:
            data = mdef.msg.pack(fields)
        except ValueError:  # vpp_papi needs explicit values for fixed arrays
            continue
        checked += 1
        assert message_decoder(mdef.msg)(data) == mdef.msg.unpack(data)[0], mdef.name
        assert message_encoder(mdef.msg)(dict(fields)) == data, mdef.name
    assert checked > 1000
