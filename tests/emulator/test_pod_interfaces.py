"""The emulator's tapv2, memif and addressing messages behave as VPP's do, and a tap's host
side is a real kernel interface in the requested namespace that goes with the tap or with VPP."""

from __future__ import annotations

import os
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.vppemu.harness import Emulator


@pytest.fixture
def netns() -> Iterator[str]:
    if os.geteuid() != 0 or not os.path.exists("/dev/net/tun"):
        pytest.skip("tap host sides need root and /dev/net/tun")
    name = f"syemu-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    yield name
    subprocess.run(["ip", "netns", "del", name], check=False)


def host_link(netns: str, name: str) -> str:
    done = subprocess.run(
        ["ip", "-n", netns, "-o", "addr", "show", "dev", name], capture_output=True, text=True
    )
    return done.stdout if done.returncode == 0 else ""


def test_tap_host_side_is_a_real_interface_in_the_namespace(
    emu: Emulator, vpp: Any, netns: str
) -> None:
    r = vpp.tap_create_v3(
        id=3,
        use_random_mac=True,
        host_if_name_set=True,
        host_if_name="eth0",
        host_namespace_set=True,
        host_namespace=netns,
        host_ip4_prefix_set=True,
        host_ip4_prefix="10.9.0.5/24",
        host_ip4_gw_set=True,
        host_ip4_gw="10.9.0.1",
        tag="t1",
    )
    assert r.retval == 0
    assert "10.9.0.5/24" in host_link(netns, "eth0")
    (details,) = vpp.sw_interface_tap_v2_dump(sw_if_index=0xFFFFFFFF)
    assert (details.id, details.dev_name, details.host_if_name) == (3, "tap3", "eth0")
    assert details.host_namespace == netns
    (iface,) = vpp.sw_interface_dump(sw_if_index=r.sw_if_index)
    assert iface.tag == "t1" and iface.flags == 0  # admin-down until set up
    # The same id again is refused; a missing namespace fails and leaves no interface.
    assert vpp.tap_create_v3(id=3).retval < 0
    bad = vpp.tap_create_v3(id=4, host_namespace_set=True, host_namespace="no-such-ns-here")
    assert bad.retval < 0
    assert [d.id for d in vpp.sw_interface_tap_v2_dump(sw_if_index=0xFFFFFFFF)] == [3]
    assert vpp.tap_delete_v2(sw_if_index=r.sw_if_index).retval == 0
    assert host_link(netns, "eth0") == ""
    assert vpp.tap_delete_v2(sw_if_index=r.sw_if_index).retval == -2

    # A VPP restart takes the host side with it.
    again = vpp.tap_create_v3(id=0xFFFFFFFF, host_namespace_set=True, host_namespace=netns,
                              host_if_name_set=True, host_if_name="eth1")  # fmt: skip
    assert again.retval == 0 and host_link(netns, "eth1") != ""
    emu.reset(drop_connections=False)
    assert host_link(netns, "eth1") == ""


def test_memif_sockets_and_interfaces(emu: Emulator, vpp: Any) -> None:
    path = os.path.join(tempfile.mkdtemp(prefix="syemu-"), "memif.sock")
    added = vpp.memif_socket_filename_add_del_v2(is_add=True, socket_id=5, socket_filename=path)
    assert (added.retval, added.socket_id) == (0, 5)
    assert (
        vpp.memif_socket_filename_add_del_v2(is_add=True, socket_id=0, socket_filename=path).retval
        < 0
    )
    m = vpp.memif_create_v2(role=0, mode=0, id=0, socket_id=5, ring_size=1024)
    assert m.retval == 0 and os.path.exists(path)  # the master listens
    assert vpp.memif_create_v2(role=0, mode=0, id=0, socket_id=5).retval < 0  # same (socket, id)
    assert vpp.memif_create_v2(role=0, mode=0, id=0, socket_id=6).retval < 0  # no socket 6
    assert vpp.memif_create_v2(role=0, id=1, socket_id=5, ring_size=1000).retval < 0
    (details,) = vpp.memif_dump()
    assert (details.if_name, details.socket_id, int(details.role)) == ("memif5/0", 5, 0)
    in_use = vpp.memif_socket_filename_add_del_v2(is_add=False, socket_id=5, socket_filename="")
    assert in_use.retval < 0
    assert vpp.memif_delete(sw_if_index=m.sw_if_index).retval == 0
    assert not os.path.exists(path)
    gone = vpp.memif_socket_filename_add_del_v2(is_add=False, socket_id=5, socket_filename="")
    assert gone.retval == 0
    assert vpp.memif_dump() == []


def test_addresses_and_unnumbered(emu: Emulator, vpp: Any) -> None:
    loop = emu.add_interface("loop0")
    other = emu.add_interface("tap9")
    assert (
        vpp.sw_interface_add_del_address(sw_if_index=loop, is_add=True, prefix="10.1.1.1/32").retval
        == 0
    )
    assert (
        vpp.sw_interface_add_del_address(
            sw_if_index=other, is_add=True, prefix="10.1.1.1/32"
        ).retval
        < 0
    )  # the same prefix on two interfaces
    assert (
        vpp.sw_interface_set_unnumbered(
            sw_if_index=loop, unnumbered_sw_if_index=other, is_add=True
        ).retval
        == 0
    )
    assert (
        vpp.sw_interface_set_unnumbered(
            sw_if_index=loop, unnumbered_sw_if_index=loop, is_add=True
        ).retval
        < 0
    )
    assert (
        vpp.sw_interface_set_unnumbered(
            sw_if_index=loop, unnumbered_sw_if_index=999, is_add=True
        ).retval
        == -2
    )
    state = emu.state()["addressing"]
    assert state == {"addresses": {str(loop): ["10.1.1.1/32"]}, "unnumbered": {str(other): loop}}
    emu.delete_interface(loop)
    assert emu.state()["addressing"] == {"addresses": {}, "unnumbered": {}}
