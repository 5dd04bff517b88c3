"""Descriptors of the "gobgp" dataplane: BgpGlobal (StartBgp), BgpPeer, BgpAnnouncement.

Ownership: the driver journals what it created (drivers/vpp/state.StateStore, in the driver's
state directory). A dump reports a peer or a locally originated path as owned only when the
journal has it, so operator-made peers and paths (gobgp CLI) are never updated or deleted;
journal records that the daemon no longer has (gobgpd restarted) are dropped by the dump.

A restarted gobgpd comes back config-less (GetBgp asn 0) with nothing in it. Any call that then
fails with "hasn't started yet" raises ConnectionLost; the agent reconnects and resyncs the
dataplane, whose dumps are empty, so everything is created again. The learned-route watcher
notices a restart on its own too (its stream breaks) and asks the agent for that resync.
"""

from __future__ import annotations

from collections.abc import Iterable
from ipaddress import ip_address
from typing import Final

from gobgpapi import gobgp_pb2 as api
from switchyard_contract.nodeconfig import BgpAnnouncement, BgpGlobal, BgpPeer

from ...descriptors import BaseDescriptor, Dumped, KeyedT, PermanentError
from .. import GOBGP, dependencies_of
from ..vpp.state import StateStore
from .connection import GobgpConnection
from .paths import (
    FAMILIES,
    FAMILY_V4,
    FAMILY_V6,
    announcement_path,
    announcements_of,
    canonical_prefix,
    family_name,
)

# Timers the BgpPeer value does not carry: how soon a failed or reset session is retried.
CONNECT_RETRY: Final = 5
IDLE_HOLD_AFTER_RESET: Final = 5
PEER_EXISTS: Final = "can't overwrite the existing peer"
NO_PEER: Final = ("can't find the neighbor", "doesn't exist")


class GobgpDescriptor(BaseDescriptor[KeyedT]):
    dataplane = GOBGP

    def __init__(self, conn: GobgpConnection, store: StateStore) -> None:
        self.conn = conn
        self.store = store

    def dependencies(self, value: KeyedT) -> Iterable[str]:
        return dependencies_of(value)  # type: ignore[arg-type]

    def _started(self) -> bool:
        return self.conn.get_global().asn != 0


class GlobalDescriptor(GobgpDescriptor[BgpGlobal]):
    """StartBgp on a config-less gobgpd (multipath on: learned ECMP routes need it).
    An ASN or router-id change is StopBgp + StartBgp: the reconciler takes the peers and paths
    down first and re-creates them afterwards."""

    kind = BgpGlobal.KIND

    def create(self, value: BgpGlobal) -> object:
        current = self.conn.get_global()
        if current.asn != 0:
            if (current.asn, current.router_id) != (value.asn, value.router_id):
                raise PermanentError(
                    f"gobgpd already runs AS {current.asn} router-id {current.router_id}"
                )
        else:
            config = api.Global(
                asn=value.asn,
                router_id=value.router_id,
                listen_port=value.listen_port if value.listen_port else -1,
                use_multiple_paths=True,
            )
            self.conn.call(
                "StartBgp",
                lambda s, t: s.StartBgp(api.StartBgpRequest(**{"global": config}), timeout=t),
            )
        self.store.put(self.kind, value.key, True)
        return None

    def delete(self, value: BgpGlobal, metadata: object) -> None:
        self.conn.call("StopBgp", lambda s, t: s.StopBgp(api.StopBgpRequest(), timeout=t))
        self.store.delete(self.kind, value.key)

    def dump(self) -> Iterable[Dumped[BgpGlobal]]:
        current = self.conn.get_global()
        key = BgpGlobal.KIND
        if current.asn == 0:  # config-less: never started, or restarted
            self.store.delete(self.kind, key)
            return []
        port = current.listen_port if current.listen_port > 0 else 0
        value = BgpGlobal(current.asn, current.router_id, port)
        return [Dumped(value, owned=self.store.get(self.kind, key) is not None)]


def peer_message(value: BgpPeer) -> api.Peer:
    families = []
    for name in value.families:
        family = FAMILIES.get(name)
        if family is None:
            raise PermanentError(f"unsupported address family {name!r}")
        families.append(api.AfiSafi(config=api.AfiSafiConfig(family=family, enabled=True)))
    return api.Peer(
        conf=api.PeerConf(
            neighbor_address=value.address,
            peer_asn=value.asn,
            auth_password=value.password or "",
        ),
        timers=api.Timers(
            config=api.TimersConfig(
                hold_time=value.hold_time,
                keepalive_interval=value.keepalive,
                connect_retry=CONNECT_RETRY,
                idle_hold_time_after_reset=IDLE_HOLD_AFTER_RESET,
            )
        ),
        ebgp_multihop=api.EbgpMultihop(
            enabled=value.multihop_ttl > 0, multihop_ttl=value.multihop_ttl
        ),
        route_reflector=api.RouteReflector(route_reflector_client=value.route_reflector_client),
        afi_safis=families,
    )


def peer_value(peer: api.Peer) -> BgpPeer:
    families = tuple(
        name
        for a in peer.afi_safis
        if a.config.enabled and (name := family_name(a.config.family)) is not None
    )
    timers = peer.timers.config
    return BgpPeer(
        address=peer.conf.neighbor_address,
        asn=peer.conf.peer_asn,
        password=peer.conf.auth_password or None,
        multihop_ttl=peer.ebgp_multihop.multihop_ttl if peer.ebgp_multihop.enabled else 0,
        route_reflector_client=peer.route_reflector.route_reflector_client,
        hold_time=int(timers.hold_time),
        keepalive=int(timers.keepalive_interval),
        families=families,
    )


class PeerDescriptor(GobgpDescriptor[BgpPeer]):
    """AddPeer / UpdatePeer / DeletePeer."""

    kind = BgpPeer.KIND

    def equivalent(self, desired: BgpPeer, actual: BgpPeer) -> bool:
        def norm(p: BgpPeer) -> tuple[object, ...]:
            return (
                str(canonical_prefix(p.address).network_address),
                p.asn,
                p.password or None,
                p.multihop_ttl,
                p.route_reflector_client,
                p.hold_time,
                p.keepalive,
                tuple(sorted(set(p.families))),
            )

        return norm(desired) == norm(actual)

    def can_update(self, old: BgpPeer, new: BgpPeer) -> bool:
        return old.address == new.address

    def create(self, value: BgpPeer) -> object:
        peer = peer_message(value)
        self.store.put(self.kind, value.key, True)
        try:
            request = api.AddPeerRequest(peer=peer)
            self.conn.call("AddPeer", lambda s, t: s.AddPeer(request, timeout=t))
        except PermanentError as exc:
            if PEER_EXISTS not in str(exc):
                raise
            self._update(peer)
        return None

    def _update(self, peer: api.Peer) -> None:
        request = api.UpdatePeerRequest(peer=peer, do_soft_reset_in=False)
        self.conn.call("UpdatePeer", lambda s, t: s.UpdatePeer(request, timeout=t))

    def update(self, old: BgpPeer, new: BgpPeer, metadata: object) -> object:
        self._update(peer_message(new))
        self.store.put(self.kind, new.key, True)
        return None

    def delete(self, value: BgpPeer, metadata: object) -> None:
        request = api.DeletePeerRequest(address=value.address)
        try:
            self.conn.call("DeletePeer", lambda s, t: s.DeletePeer(request, timeout=t))
        except PermanentError as exc:
            if not any(text in str(exc) for text in NO_PEER):
                raise
        self.store.delete(self.kind, value.key)

    def dump(self) -> Iterable[Dumped[BgpPeer]]:
        out: list[Dumped[BgpPeer]] = []
        seen: set[str] = set()
        peers = self.conn.list_peers() if self._started() else []
        for peer in peers:
            value = peer_value(peer)
            owned = self.store.get(self.kind, value.key) is not None
            if owned:
                seen.add(value.key)
            out.append(Dumped(value, owned=owned))
        for key in self.store.keys(self.kind):
            if key not in seen:
                self.store.delete(self.kind, key)
        return out


class PathDescriptor(GobgpDescriptor[BgpAnnouncement]):
    """AddPath / DeletePath in the global table. DeletePath always names the path (NLRI and the
    attributes it was added with): a DeletePath without path or uuid would withdraw every
    locally originated route of the daemon. Re-adding a prefix replaces its path."""

    kind = BgpAnnouncement.KIND

    def equivalent(self, desired: BgpAnnouncement, actual: BgpAnnouncement) -> bool:
        return _norm_path(desired) == _norm_path(actual)

    def can_update(self, old: BgpAnnouncement, new: BgpAnnouncement) -> bool:
        return True

    def create(self, value: BgpAnnouncement) -> object:
        path = announcement_path(value)
        self.store.put(self.kind, value.key, True)
        request = api.AddPathRequest(table_type=api.GLOBAL, path=path)
        self.conn.call("AddPath", lambda s, t: s.AddPath(request, timeout=t))
        return None

    def update(self, old: BgpAnnouncement, new: BgpAnnouncement, metadata: object) -> object:
        return self.create(new)  # AddPath of the same NLRI replaces the path in place

    def delete(self, value: BgpAnnouncement, metadata: object) -> None:
        path = announcement_path(value)
        assert path.HasField("nlri")  # never the delete-everything form
        request = api.DeletePathRequest(table_type=api.GLOBAL, family=path.family, path=path)
        self.conn.call("DeletePath", lambda s, t: s.DeletePath(request, timeout=t))
        self.store.delete(self.kind, value.key)

    def dump(self) -> Iterable[Dumped[BgpAnnouncement]]:
        out: list[Dumped[BgpAnnouncement]] = []
        seen: set[str] = set()
        if self._started():
            for family in (FAMILY_V4, FAMILY_V6):
                for value in announcements_of(self.conn.list_paths(family)):
                    owned = self.store.get(self.kind, value.key) is not None
                    if owned:
                        seen.add(value.key)
                    out.append(Dumped(value, owned=owned))
        for key in self.store.keys(self.kind):
            if key not in seen:
                self.store.delete(self.kind, key)
        return out


def _norm_path(value: BgpAnnouncement) -> tuple[object, ...]:
    return (
        str(canonical_prefix(value.prefix)),
        str(ip_address(value.next_hop)),
        tuple(sorted(set(value.communities))),
    )
