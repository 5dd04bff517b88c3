"""One gRPC channel to gobgpd's API, and the mapping of its errors onto the descriptors'.

GoBGP 3.10 reports almost every failure as StatusCode.UNKNOWN with text only, so the text is
what classifies it. A gobgpd that runs but has no BGP server ("hasn't started yet") after the
agent started one has been restarted and lost all its state: that is a ConnectionLost, so the
reconciler suspends the "gobgp" dataplane and the agent resyncs (and re-applies) everything.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Final, TypeVar

import grpc

from gobgpapi import gobgp_pb2 as api
from gobgpapi import gobgp_pb2_grpc as api_grpc

from ...descriptors import ConnectionLost, PermanentError, TransientError

log = logging.getLogger(__name__)

DEFAULT_TARGET: Final = "127.0.0.1:50051"
CALL_TIMEOUT: Final = 5.0  # seconds per unary call
NOT_STARTED: Final = "hasn't started yet"

T = TypeVar("T")

_LOST_CODES = frozenset(
    {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED, grpc.StatusCode.DEADLINE_EXCEEDED}
)


def grpc_target(address: str) -> str:
    """gRPC target of a --gobgp-api value: HOST:PORT, [v6]:PORT or unix:///path."""
    address = address.strip()
    if not address:
        raise ValueError("empty GoBGP API address")
    if address.startswith("unix:"):
        return address
    if address.startswith("/"):
        return f"unix://{address}"
    return address


def translate(error: grpc.RpcError, what: str) -> Exception:
    """The descriptor error for a failed GoBGP call."""
    code = error.code() if isinstance(error, grpc.Call) else None
    details = (error.details() if isinstance(error, grpc.Call) else None) or str(error)
    if code in _LOST_CODES:
        return ConnectionLost(f"{what}: gobgpd unreachable ({details})")
    if NOT_STARTED in details:
        return ConnectionLost(f"{what}: gobgpd has no BGP server (restarted?): {details}")
    if code == grpc.StatusCode.RESOURCE_EXHAUSTED:
        return TransientError(f"{what}: {details}")
    return PermanentError(f"{what}: {details}")


class GobgpConnection:
    """A channel and stub to one gobgpd. Used from the agent's worker thread; the learned-route
    watcher opens a connection of its own."""

    def __init__(self, address: str = DEFAULT_TARGET, timeout: float = CALL_TIMEOUT) -> None:
        self.address = address
        self.target = grpc_target(address)
        self.timeout = timeout
        self._channel: grpc.Channel | None = None
        self._stub: api_grpc.GobgpApiStub | None = None

    @property
    def stub(self) -> api_grpc.GobgpApiStub:
        if self._stub is None:
            self._open()
        assert self._stub is not None
        return self._stub

    def _open(self) -> None:
        self._channel = grpc.insecure_channel(self.target)
        self._stub = api_grpc.GobgpApiStub(self._channel)

    def reconnect(self) -> api.Global:
        """A fresh channel, checked with GetBgp; raises ConnectionLost when gobgpd does not
        answer. Returns its global config (asn 0: no BGP server yet)."""
        self.close()
        self._open()
        return self.get_global()

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()
        self._channel = None
        self._stub = None

    def call(self, what: str, fn: Callable[[api_grpc.GobgpApiStub, float], T]) -> T:
        """Run one call (fn gets the stub and the timeout); errors become descriptor errors."""
        try:
            return fn(self.stub, self.timeout)
        except grpc.RpcError as exc:
            raise translate(exc, what) from exc

    def get_global(self) -> api.Global:
        reply = self.call("GetBgp", lambda s, t: s.GetBgp(api.GetBgpRequest(), timeout=t))
        found: api.Global = getattr(reply, "global")
        return found

    def list_peers(self) -> list[api.Peer]:
        return self.call(
            "ListPeer",
            lambda s, t: [r.peer for r in s.ListPeer(api.ListPeerRequest(), timeout=t)],
        )

    def list_paths(
        self, family: api.Family, prefixes: list[str] | None = None
    ) -> list[api.Destination]:
        request = api.ListPathRequest(table_type=api.GLOBAL, family=family)
        for prefix in prefixes or ():
            request.prefixes.add(prefix=prefix, type=api.TableLookupPrefix.EXACT)
        return self.call(
            "ListPath", lambda s, t: [r.destination for r in s.ListPath(request, timeout=t)]
        )
