"""Interface events through the real vpp_papi client: a client that called
want_interface_events gets sw_interface_event (on vpp_papi's reader thread, as
from VPP) when an interface comes up, changes state or is deleted; others get
nothing."""

from __future__ import annotations

import os
import queue
from typing import Any

from vpp_papi import VPPApiClient

from tests.vppemu.harness import Emulator

ADMIN_UP, LINK_UP = 1, 2


def events_of(client: VPPApiClient) -> queue.SimpleQueue[tuple[str, Any]]:
    received: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
    client.register_event_callback(lambda name, msg: received.put((name, msg)))
    return received


def next_event(received: queue.SimpleQueue[tuple[str, Any]]) -> Any:
    name, msg = received.get(timeout=5)
    assert name == "sw_interface_event"
    return msg


def test_subscribed_clients_get_interface_events(
    emu: Emulator, vpp: Any, client: VPPApiClient
) -> None:
    received = events_of(client)
    assert vpp.want_interface_events(enable_disable=1, pid=os.getpid()).retval == 0

    index = emu.add_interface("tap7")  # created and up, as a CNI plugin leaves it
    event = next_event(received)
    assert event.sw_if_index == index and not event.deleted
    assert int(event.flags) == ADMIN_UP | LINK_UP and event.pid == os.getpid()

    vpp.sw_interface_set_flags(sw_if_index=index, flags=0)
    event = next_event(received)
    assert event.sw_if_index == index and int(event.flags) == 0
    vpp.sw_interface_set_flags(sw_if_index=index, flags=0)  # no change: no event

    emu.delete_interface(index)
    event = next_event(received)
    assert event.sw_if_index == index and event.deleted
    assert received.empty()

    assert vpp.want_interface_events(enable_disable=0, pid=os.getpid()).retval == 0
    emu.add_interface("tap8")
    vpp.control_ping()  # anything sent after the unsubscribe would be here by now
    assert received.empty()


def test_clients_that_did_not_subscribe_get_no_events(
    emu: Emulator, vpp: Any, client: VPPApiClient
) -> None:
    other = VPPApiClient(apidir=str(emu.apidir), server_address=str(emu.socket_path))
    other.connect("subscriber")
    try:
        theirs = events_of(other)
        mine = events_of(client)
        other.api.want_interface_events(enable_disable=1, pid=1234)
        emu.add_interface("memif1/0")
        assert next_event(theirs).pid == 1234
        vpp.control_ping()
        assert mine.empty()
    finally:
        other.disconnect()
