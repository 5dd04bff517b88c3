"""The VPP API emulator through the real vpp_papi client: the socket protocol, interfaces,
injected failures, restarts and the codec's fast paths."""

from __future__ import annotations

import socket
import struct
from pathlib import Path
from typing import Any

import pytest
from vpp_papi import VPPApiClient

from tests.emulator.messages import acl_rule, fib_path, translation
from tests.vppemu.harness import Emulator

U32_MAX = 0xFFFFFFFF
NO_SUCH_ENTRY, VALUE_EXIST, UNIMPLEMENTED = -6, -81, -9
INVALID_SW_IF_INDEX, INVALID_MEMORY_SIZE = -2, -70
ACL_IN_USE_INBOUND, NO_SUCH_FIB, IF_ALREADY_EXISTS = -142, -3, -79


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
