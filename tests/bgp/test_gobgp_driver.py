"""The GoBGP driver against a real, config-less gobgpd (root namespace, API on a unix socket,
no BGP listener), driven through the agent's reconciler; plus the pure parts (multipath,
the merge of local and controller desired state)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from gobgpapi import attribute_pb2 as attrs
from gobgpapi import gobgp_pb2 as api
from switchyard_agent.drivers.factory import DriverOptions, build_drivers
from switchyard_agent.drivers.gobgp import GobgpDriver, create_driver, grpc_target
from switchyard_agent.drivers.gobgp.learned import learned_routes
from switchyard_agent.drivers.gobgp.paths import FAMILY_V4, announcement_path, pack
from switchyard_agent.learned_routes import LocalInbox, LocalUpdate, MergedDesired
from switchyard_agent.reconciler import ObjectState, Reconciler
from switchyard_contract.nodeconfig import (
    BgpAnnouncement,
    BgpGlobal,
    BgpPeer,
    NextHop,
    Route,
)
from tests.waiting import wait_for

GLOBAL = BgpGlobal(asn=65101, router_id="192.0.2.1", listen_port=0)
PEER = BgpPeer("192.0.2.99", 65000, password="secret", multihop_ttl=2)
VIP4 = BgpAnnouncement("203.0.113.10/32", "192.0.2.1", ("65000:100",))
POD6 = BgpAnnouncement("2001:db8:1::/64", "2001:db8::1")
SEQUENCE = attrs.AsSegment.AS_SEQUENCE


class Gobgpd:
    def __init__(self, root: Path) -> None:
        self.socket = root / "gobgpd.sock"
        self.log = root / "gobgpd.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.socket.unlink(missing_ok=True)
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                ["gobgpd", "--api-hosts", f"unix://{self.socket}", "--pprof-disable", "-p"],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        wait_for(self.socket.exists, 10, "gobgpd API socket")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=5)
        self.process = None


@pytest.fixture
def gobgpd() -> Iterator[Gobgpd]:
    if shutil.which("gobgpd") is None:
        pytest.skip("gobgpd not installed (apt-get install gobgpd)")
    root = Path(tempfile.mkdtemp(prefix="sygobgp-"))
    daemon = Gobgpd(root)
    daemon.start()
    yield daemon
    daemon.stop()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def driver(gobgpd: Gobgpd, tmp_path: Path) -> Iterator[GobgpDriver]:
    made = create_driver(DriverOptions(gobgp_api=f"unix://{gobgpd.socket}", state_dir=tmp_path))
    made.reconnect()
    yield made
    made.close()


def applied(reconciler: Reconciler, *keys: str) -> bool:
    return all(
        (s := reconciler.status(k)) is not None and s.state is ObjectState.APPLIED for k in keys
    )


def local_paths(driver: GobgpDriver) -> dict[str, api.Path]:
    out = {}
    for family in (FAMILY_V4, api.Family(afi=api.Family.AFI_IP6, safi=api.Family.SAFI_UNICAST)):
        for destination in driver.connection.list_paths(family):
            for path in destination.paths:
                out[destination.prefix] = path
    return out


def test_the_factory_builds_the_gobgp_driver(tmp_path: Path) -> None:
    built = build_drivers(
        ["gobgp"], DriverOptions(gobgp_api="unix:///nowhere.sock", state_dir=tmp_path)
    )
    assert [d.name for d in built] == ["gobgp"]
    assert grpc_target("127.0.0.1:50051") == "127.0.0.1:50051"
    assert grpc_target("/run/gobgpd.sock") == "unix:///run/gobgpd.sock"
    assert grpc_target("unix:///run/g.sock") == "unix:///run/g.sock"
    for driver in built:
        driver.close()


def test_global_peer_and_paths_are_applied_dumped_and_removed(driver: GobgpDriver) -> None:
    reconciler = Reconciler(driver.descriptors())
    desired = {v.key: v for v in (GLOBAL, PEER, VIP4, POD6)}
    result = reconciler.apply_snapshot(1, desired)
    assert not result.failures, result.failures
    assert applied(reconciler, *desired)
    started = driver.connection.get_global()
    assert (started.asn, started.router_id, started.use_multiple_paths) == (
        65101,
        "192.0.2.1",
        True,
    )
    [peer] = driver.connection.list_peers()
    assert (peer.conf.peer_asn, peer.timers.config.hold_time, peer.ebgp_multihop.multihop_ttl) == (
        65000,
        9,
        2,
    )
    assert set(local_paths(driver)) == {"203.0.113.10/32", "2001:db8:1::/64"}

    # A resync with nothing changed costs no call.
    again = reconciler.resync("gobgp")
    assert (again.created, again.updated, again.deleted) == (0, 0, 0)

    # A path somebody else originated (gobgp CLI) is never touched.
    foreign = BgpAnnouncement("198.51.100.0/24", "192.0.2.1")
    driver.connection.stub.AddPath(
        api.AddPathRequest(table_type=api.GLOBAL, path=announcement_path(foreign))
    )
    reconciler.resync("gobgp")
    removed = reconciler.apply_snapshot(
        2, {k: desired[k] for k in (GLOBAL.key, PEER.key, POD6.key)}
    )
    assert removed.deleted == 1 and not removed.failures
    assert set(local_paths(driver)) == {"198.51.100.0/24", "2001:db8:1::/64"}

    # Changed next hop and communities: updated in place (AddPath replaces the path).
    moved = BgpAnnouncement(POD6.prefix, "2001:db8::2", ("65000:7",))
    updated = reconciler.apply_delta(3, {moved.key: moved}, ())
    assert updated.updated == 1 and not updated.failures
    [(_, path)] = [(p, x) for p, x in local_paths(driver).items() if p == POD6.prefix]
    hops = [a for a in path.pattrs if a.Is(attrs.MpReachNLRIAttribute.DESCRIPTOR)]
    mp = attrs.MpReachNLRIAttribute()
    hops[0].Unpack(mp)
    assert list(mp.next_hops) == ["2001:db8::2"]


def test_a_restarted_gobgpd_is_detected_and_everything_is_reapplied(
    driver: GobgpDriver, gobgpd: Gobgpd
) -> None:
    reconciler = Reconciler(driver.descriptors())
    desired = {v.key: v for v in (GLOBAL, PEER, VIP4)}
    assert not reconciler.apply_snapshot(1, desired).failures
    gobgpd.stop()
    gobgpd.start()  # config-less again: asn 0, no peers, no paths
    more = BgpAnnouncement("203.0.113.11/32", "192.0.2.1")
    result = reconciler.apply_delta(2, {more.key: more}, ())
    assert result.suspended == ("gobgp",)  # "hasn't started yet" -> ConnectionLost
    driver.reconnect()
    again = reconciler.resync("gobgp")
    assert not again.suspended and not again.failures, again
    assert again.created == 4
    assert driver.connection.get_global().asn == 65101
    assert set(local_paths(driver)) == {"203.0.113.10/32", "203.0.113.11/32"}


def _learned(prefix: str, next_hop: str, peer: str, as_path: list[int], best: bool) -> api.Path:
    network, length = prefix.split("/")
    return api.Path(
        family=FAMILY_V4,
        nlri=pack(attrs.IPAddressPrefix(prefix=network, prefix_len=int(length))),
        pattrs=[
            pack(attrs.OriginAttribute(origin=0)),
            pack(attrs.AsPathAttribute(segments=[attrs.AsSegment(type=SEQUENCE, numbers=as_path)])),
            pack(attrs.NextHopAttribute(next_hop=next_hop)),
        ],
        neighbor_ip=peer,
        source_asn=as_path[0],
        best=best,
    )


def test_learned_routes_keep_every_equal_cost_next_hop() -> None:
    vip = api.Destination(
        prefix="203.0.113.10/32",
        paths=[
            _learned("203.0.113.10/32", "198.51.100.12", "198.51.100.12", [65102], False),
            _learned("203.0.113.10/32", "198.51.100.11", "198.51.100.11", [65101], True),
            _learned("203.0.113.10/32", "198.51.100.13", "198.51.100.13", [65103, 65101], False),
        ],
    )
    own = api.Destination(
        prefix="198.18.3.0/24",
        paths=[
            api.Path(
                family=FAMILY_V4,
                nlri=pack(attrs.IPAddressPrefix(prefix="198.18.3.0", prefix_len=24)),
                pattrs=[pack(attrs.NextHopAttribute(next_hop="198.51.100.13"))],
                neighbor_ip="<nil>",
                best=True,
            ),
            _learned("198.18.3.0/24", "198.51.100.11", "198.51.100.11", [65101, 65103], False),
        ],
    )
    routes = learned_routes([vip, own], local_asn=65103)
    assert routes == {
        "route/203.0.113.10/32": Route(
            "203.0.113.10/32", (NextHop("198.51.100.11"), NextHop("198.51.100.12"))
        )
    }


def test_local_state_merges_under_the_controllers() -> None:
    merged = MergedDesired()
    learned = Route("10.9.0.0/16", (NextHop("192.0.2.7"),))
    static = Route("10.9.0.0/16", (NextHop("192.0.2.1"),))
    assert merged.replace_controller({}) == {}
    assert merged.local_update(LocalUpdate({learned.key: learned})) == (
        {learned.key: learned},
        set(),
    )
    # The controller's static route for the prefix wins ...
    assert merged.controller_delta({static.key: static}, ()) == ({static.key: static}, set())
    assert merged.local_update(LocalUpdate({learned.key: learned})) == ({}, set())
    assert merged.merged() == {static.key: static}
    # ... and when it goes, the learned route takes its place.
    assert merged.controller_delta({}, [static.key]) == ({learned.key: learned}, set())
    assert merged.local_update(LocalUpdate({}, replace=True)) == ({}, {learned.key})
    assert merged.merged() == {}


def test_the_inbox_coalesces_updates() -> None:
    inbox = LocalInbox()
    a = Route("10.1.0.0/16", (NextHop("192.0.2.1"),))
    b = Route("10.2.0.0/16", (NextHop("192.0.2.1"),))
    assert inbox.push(LocalUpdate({a.key: a})) is True
    assert inbox.push(LocalUpdate({b.key: b})) is False
    assert inbox.push(LocalUpdate({}, frozenset({a.key}))) is False
    update = inbox.drain()
    assert update == LocalUpdate({b.key: b}, frozenset({a.key}))
    assert inbox.drain() is None
