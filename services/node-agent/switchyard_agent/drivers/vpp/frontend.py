"""ServiceFrontend -> one cnat translation (the service proxy), per shared/notes/vpp-cnat.md.

* One `cnat_translation_update` per frontend: VIP, port, protocol, MAGLEV, and the whole path
  list (an upsert keyed by (vip, port, proto): a backend change is one call).
* ClientIP affinity = flow_hash_config source-IP-only. VPP takes lb_type and flow hash only at
  creation, so an affinity change is delete + create (`can_update` says so).
* NodePort frontends (node addresses) are is_real_ip=1, every other kind is_real_ip=0.
* Weight-0 (terminating) backends are removed: cnat cannot drain. A frontend left without
  paths is deleted (n_paths=0 aborts VPP), and one created without paths makes no call.
* The dump lacks is_real_ip, flags, flow hash and any tag: the desired values are recorded in
  the state file, and translations are ours when their (vip, port, proto) is recorded.
* Ids are reused: the id to delete is read from a fresh dump right before deleting.
* IPv6 frontends only with allow_ipv6_frontends (VPP 26.10 cnat has IPv6 bugs).

Bulk path: `prefetch()` pipelines the upserts (and deletes) a reconciler call is about to ask
for, from the same values; `create`/`update`/`delete` then hand back each object's own reply or
error. Anything not prefetched (or prefetched with another value) takes the one-call path.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
import socket
from collections.abc import Iterable
from typing import Any, cast

from switchyard_contract.nodeconfig import Backend, Protocol, ServiceFrontend

from ...descriptors import DescriptorError, Dumped, PermanentError
from .common import (
    PROTOCOL_NAMES,
    PROTOCOLS,
    U32_MAX,
    VppContext,
    VppDescriptor,
    ip_text,
    ip_version,
)
from .connection import Encoded, VppApiError

log = logging.getLogger(__name__)

KIND = ServiceFrontend.KIND
LB_MAGLEV = 1
FLOW_HASH_SRC_IP = 0x01
IPV6_REFUSED = (
    "IPv6 service frontends are disabled: VPP 26.10's cnat has IPv6 bugs (the K8S SNAT policy "
    "compares only the low 32 bits of IPv6 addresses; VPP-originated IPv6 packets can corrupt "
    "sessions); start the agent with --allow-ipv6-frontends "
    "(SWITCHYARD_ALLOW_IPV6_FRONTENDS=1) to program them anyway"
)

Paths = tuple[tuple[str, int], ...]


def to_record(value: ServiceFrontend) -> dict[str, Any]:
    return {
        "address": value.address,
        "protocol": value.protocol,
        "port": value.port,
        "kind": value.kind,
        "backends": [[b.address, b.port, b.weight] for b in value.backends],
        "affinity_timeout": value.affinity_timeout,
        "local_only": value.local_only,
        "service": value.service,
    }


def from_record(record: dict[str, Any]) -> ServiceFrontend:
    return ServiceFrontend(
        address=record["address"],
        protocol=record["protocol"],
        port=int(record["port"]),
        kind=record["kind"],
        backends=tuple(Backend(a, int(p), int(w)) for a, p, w in record["backends"]),
        affinity_timeout=int(record["affinity_timeout"]),
        local_only=bool(record["local_only"]),
        service=record.get("service", ""),
    )


def paths_of(value: ServiceFrontend) -> Paths:
    """What cnat can express of the backends: the serving ones, as (address, port)."""
    return tuple((ip_text(b.address), b.port) for b in value.backends if b.weight > 0)


def is_real_ip(value: ServiceFrontend) -> int:
    return 1 if value.kind == "nodePort" else 0


def flow_hash(value: ServiceFrontend) -> int:
    return FLOW_HASH_SRC_IP if value.affinity_timeout > 0 else 0


def reported(value: ServiceFrontend) -> tuple[Any, ...]:
    """Everything that takes effect in VPP; the rest (owner, timeout, weights) does not."""
    return (
        ip_text(value.address),
        value.protocol,
        value.port,
        is_real_ip(value),
        flow_hash(value),
        tuple(sorted(paths_of(value))),
    )


class TranslationPacker:
    """cnat_translation_update from parts that vpp_papi's own type objects packed once: the
    translation without its paths (per VIP settings), and each path (per backend). The bytes
    are those of the message's `pack` (checked against it when built)."""

    def __init__(self, msg: Any, msg_id: int, client_index: int) -> None:
        self.msg = msg
        self.msg_id = msg_id
        self.client_index = client_index
        id_packer, index_packer, context_packer, translation = msg.packers
        self._head = (id_packer.pack(msg_id) + index_packer.pack(client_index), context_packer)
        self._translation = translation
        self._path = translation.packers[-1].packer  # VLAList of vl_api_cnat_endpoint_tuple_t
        self._prefixes: dict[tuple[Any, ...], bytes] = {}
        self._paths: dict[tuple[str, int], bytes] = {}
        # vl_api_cnat_endpoint_t = address, sw_if_index, if_af, port: the address is the
        # costly part of vpp_papi's pack, so it is packed once per address.
        endpoint = self._path.packers[0]
        self._address, self._sw_if_index, self._if_af, self._port = endpoint.packers
        self._flags = self._path.packers[2]
        self._scalars = translation.packers[1:8]
        self._addresses: dict[str, bytes] = {}
        self._tails: dict[int, bytes] = {}

    def _pack_address(self, address: str) -> bytes:
        packed = self._addresses.get(address)
        if packed is None:
            v6 = ":" in address
            raw = socket.inet_pton(socket.AF_INET6 if v6 else socket.AF_INET, address)
            # ADDRESS_IP4 = 0, ADDRESS_IP6 = 1 (vl_api_address_family_t)
            packed = bytes(self._address.pack({"af": int(v6), "un": {"ip6" if v6 else "ip4": raw}}))
            if len(self._addresses) > 500_000:
                self._addresses.clear()
            self._addresses[address] = packed
        return packed

    def _pack_endpoint(self, address: str, port: int) -> bytes:
        tail = self._tails.get(port)
        if tail is None:
            tail = self._tails[port] = bytes(
                self._sw_if_index.pack(U32_MAX) + self._if_af.pack(0) + self._port.pack(port)
            )
        return self._pack_address(address) + tail

    def _pack_path(self, path: tuple[str, int], any_src: str) -> bytes:
        flags: bytes = self._flags.pack(0)
        return self._pack_endpoint(path[0], path[1]) + self._pack_endpoint(any_src, 0) + flags

    @staticmethod
    def fields(vip: str, port: int, proto: int, real: int, fhc: int, paths: Paths) -> Any:
        any_src = "::" if ipaddress.ip_address(vip).version == 6 else "0.0.0.0"
        return {
            "vip": {"addr": vip, "sw_if_index": U32_MAX, "if_af": 0, "port": port},
            "id": 0,
            "ip_proto": proto,
            "is_real_ip": real,
            "flags": 0,
            "lb_type": LB_MAGLEV,
            "flow_hash_config": fhc,
            "n_paths": len(paths),
            "paths": [
                {
                    "dst_ep": {"addr": a, "sw_if_index": U32_MAX, "if_af": 0, "port": p},
                    "src_ep": {"addr": any_src, "sw_if_index": U32_MAX, "if_af": 0, "port": 0},
                    "flags": 0,
                }
                for a, p in paths
            ],
        }

    def encode(self, value: ServiceFrontend) -> Encoded:
        vip = ip_text(value.address)
        paths = paths_of(value)
        proto = PROTOCOLS[value.protocol]
        key = (vip, value.port, proto, is_real_ip(value), flow_hash(value), len(paths))
        prefix = self._prefixes.get(key)
        if prefix is None:
            # vip, then id, ip_proto, is_real_ip, flags, lb_type, n_paths, flow_hash_config
            scalars = (0, proto, key[3], 0, LB_MAGLEV, len(paths), key[4])
            prefix = self._pack_endpoint(vip, value.port) + b"".join(
                packer.pack(v) for packer, v in zip(self._scalars, scalars, strict=True)
            )
            if len(self._prefixes) > 100_000:
                self._prefixes.clear()
            self._prefixes[key] = prefix
        parts = [prefix]
        for path in paths:
            packed = self._paths.get(path)
            if packed is None:
                packed = self._pack_path(path, any_src="::" if ":" in vip else "0.0.0.0")
                if len(self._paths) > 500_000:
                    self._paths.clear()
                self._paths[path] = packed
            parts.append(packed)
        body = b"".join(parts)
        head, context_packer = self._head

        def encode(context: int) -> bytes:
            packed: bytes = head + context_packer.pack(context) + body
            return packed

        return encode

    def reference(self, value: ServiceFrontend, context: int) -> bytes:
        """The same message through vpp_papi's whole-message pack."""
        fields = self.fields(
            ip_text(value.address),
            value.port,
            PROTOCOLS[value.protocol],
            is_real_ip(value),
            flow_hash(value),
            paths_of(value),
        )
        packed: bytes = self.msg.pack(
            {
                "_vl_msg_id": self.msg_id,
                "client_index": self.client_index,
                "context": context,
                "translation": fields,
            }
        )
        return packed


class FrontendDescriptor(VppDescriptor[ServiceFrontend]):
    kind = KIND

    def __init__(self, ctx: VppContext) -> None:
        super().__init__(ctx)
        self._packer: TranslationPacker | None = None
        self._fast = True
        self._prefetched: dict[str, tuple[ServiceFrontend, object]] = {}
        self._prefetched_deletes: dict[str, object] = {}
        self._foreign: set[str] = set()

    # ------------------------------------------------------------------ semantics

    def equivalent(self, desired: ServiceFrontend, actual: ServiceFrontend) -> bool:
        return reported(desired) == reported(actual)

    def can_update(self, old: ServiceFrontend, new: ServiceFrontend) -> bool:
        # flow hash (affinity) and the address mode are taken at creation only
        if not paths_of(old):
            return True  # nothing in VPP: an update is a creation
        return (flow_hash(old), is_real_ip(old)) == (flow_hash(new), is_real_ip(new))

    # ------------------------------------------------------------------ calls

    def create(self, value: ServiceFrontend) -> object:
        return self._upsert(value)

    def update(self, old: ServiceFrontend, new: ServiceFrontend, metadata: object) -> object:
        if not paths_of(new):
            self._delete_translation(new.key, old)
            self.store.put(KIND, new.key, to_record(new))
            return None
        return self._upsert(new)

    def delete(self, value: ServiceFrontend, metadata: object) -> None:
        self._delete_translation(value.key, value)
        self.store.delete(KIND, value.key)

    def _upsert(self, value: ServiceFrontend) -> object:
        self._check(value)
        hit = self._prefetched.pop(value.key, None)
        if hit is not None and hit[0] == value:
            outcome = hit[1]
            if isinstance(outcome, Exception):
                raise outcome
            return int(outcome.id)  # type: ignore[attr-defined]
        if not paths_of(value):
            # No serving backend: no translation (zero paths would abort VPP).
            self.store.put(KIND, value.key, to_record(value))
            return None
        reply = self.conn.call_encoded("cnat_translation_update", self._encode(value))
        self.store.put(KIND, value.key, to_record(value))
        return int(reply.id)

    def _delete_translation(self, key: str, value: ServiceFrontend) -> None:
        prefetched = self._prefetched_deletes.pop(key, None)
        if prefetched is not None:
            if isinstance(prefetched, Exception):
                raise prefetched
            return
        if not paths_of(value):
            return  # no translation was programmed for it
        ids = self._ids_by_dump()  # fresh: ids are reused
        index = ids.get(key)
        if index is None:
            return  # already gone (a VPP restart, an operator)
        try:
            self.conn.call("cnat_translation_del", id=index)
        except VppApiError as exc:
            if exc.retval != -6:  # NO_SUCH_ENTRY: gone meanwhile
                raise

    def _check(self, value: ServiceFrontend) -> None:
        try:
            version = ip_version(value.address)
        except ValueError as exc:
            raise PermanentError(f"bad frontend address {value.address!r}") from exc
        if version == 6 and not self.ctx.allow_ipv6_frontends:
            raise PermanentError(IPV6_REFUSED)
        if value.protocol not in PROTOCOLS:
            raise PermanentError(f"unsupported protocol {value.protocol!r}")
        for backend in value.backends:
            try:
                family = ip_version(backend.address)
            except ValueError as exc:
                raise PermanentError(f"bad backend address {backend.address!r}") from exc
            if family != version:
                raise PermanentError(
                    f"backend {backend.address} is not of the frontend's address family"
                )

    def _encode(self, value: ServiceFrontend) -> Encoded:
        msg, msg_id = self.conn.message("cnat_translation_update")
        packer = self._packer
        if (
            packer is None
            or packer.msg is not msg
            or packer.msg_id != msg_id
            or (packer.client_index != self.conn.client_index)
        ):
            packer = self._packer = TranslationPacker(msg, msg_id, self.conn.client_index)
            sample = dataclasses.replace(
                value, backends=(*value.backends, Backend(value.address, 1))
            )
            self._fast = packer.encode(sample)(7) == packer.reference(sample, 7)
            if not self._fast:
                log.warning("cached cnat packing differs from vpp_papi's: disabled")
        if self._fast:
            return packer.encode(value)
        fields = TranslationPacker.fields(
            ip_text(value.address),
            value.port,
            PROTOCOLS[value.protocol],
            is_real_ip(value),
            flow_hash(value),
            paths_of(value),
        )
        return self.conn.encoder("cnat_translation_update", {"translation": fields})

    # ------------------------------------------------------------------ dump

    def _dump_rows(self) -> dict[str, Any]:
        rows: dict[str, Any] = {}
        for row in self.conn.dump("cnat_translation_dump"):
            t = row.translation
            if int(t.vip.sw_if_index) != U32_MAX:
                continue  # an interface-address translation: never one of ours
            proto = PROTOCOL_NAMES.get(int(t.ip_proto))
            if proto is None:
                continue
            key = f"{KIND}/{proto}/{ip_text(t.vip.addr)}/{int(t.vip.port)}"
            rows.setdefault(key, t)
        return rows

    def _ids_by_dump(self) -> dict[str, int]:
        return {key: int(t.id) for key, t in self._dump_rows().items()}

    def dump(self) -> Iterable[Dumped[ServiceFrontend]]:
        self._prefetched.clear()
        self._prefetched_deletes.clear()
        rows = self._dump_rows()
        out: list[Dumped[ServiceFrontend]] = []
        self._foreign = set()
        for key, t in rows.items():
            backends = tuple(Backend(ip_text(p.dst_ep.addr), int(p.dst_ep.port)) for p in t.paths)
            record = self.store.get(KIND, key)
            if record is not None:
                value = dataclasses.replace(from_record(record), backends=backends)
                out.append(Dumped(value, True, int(t.id)))
            else:
                proto = cast(Protocol, PROTOCOL_NAMES[int(t.ip_proto)])
                value = ServiceFrontend(
                    ip_text(t.vip.addr), proto, int(t.vip.port), "clusterIP", backends
                )
                self._foreign.add(key)
                out.append(Dumped(value, False, int(t.id)))
        for key, record in self.store.items(KIND):
            if key in rows:
                continue
            value = from_record(record)
            if paths_of(value):
                self.store.delete(KIND, key)  # VPP lost it (restart) or someone deleted it
            else:
                out.append(Dumped(value, True, None))  # present as "no translation"
        return out

    # ------------------------------------------------------------------ bulk

    def prefetch(
        self,
        upserts: Iterable[ServiceFrontend],
        removals: Iterable[str] = (),
    ) -> int:
        """Pipeline the calls that applying `upserts` and `removals` will need; returns how
        many requests were sent. Only what is certain to be asked for next is sent: values
        that differ from the recorded ones and can be updated in place, and deletions of
        recorded translations."""
        self._prefetched.clear()
        self._prefetched_deletes.clear()
        values: list[ServiceFrontend] = []
        for value in upserts:
            key = value.key
            if key in self._foreign:
                continue
            try:
                self._check(value)
            except DescriptorError:
                continue
            if not paths_of(value):
                continue
            record = self.store.get(KIND, key)
            if record is not None:
                old = from_record(record)
                if self.equivalent(value, old) or not self.can_update(old, value):
                    continue
            values.append(value)
        sent = 0
        if values:
            requests = [("cnat_translation_update", self._encode(v)) for v in values]
            replies = self.conn.pipeline(requests)
            sent += len(requests)
            done = []
            for value, reply in zip(values, replies, strict=True):
                self._prefetched[value.key] = (value, reply)
                if not isinstance(reply, Exception):
                    done.append((value.key, to_record(value)))
            self.store.put_many(KIND, done)
        gone = []
        for key in removals:
            record = self.store.get(KIND, key)
            if record is not None and paths_of(from_record(record)):
                gone.append(key)
        if gone:
            ids = self._ids_by_dump()  # fresh, right before deleting
            present = [key for key in gone if key in ids]
            replies = self.conn.pipeline(
                [
                    (
                        "cnat_translation_del",
                        self.conn.encoder("cnat_translation_del", {"id": ids[key]}),
                    )
                    for key in present
                ]
            )
            sent += len(present)
            for key, reply in zip(present, replies, strict=True):
                if isinstance(reply, VppApiError) and reply.retval == -6:
                    reply = None
                self._prefetched_deletes[key] = reply if isinstance(reply, Exception) else True
            for key in gone:
                self._prefetched_deletes.setdefault(key, True)
        return sent
