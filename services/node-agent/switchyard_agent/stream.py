"""The distribution stream client: one bidirectional gRPC stream to the controller.

Per session (one stream on a fresh channel): send Hello (with the revision the agent holds),
receive Snapshot/Delta chunks (`continued` on all but the last), hand each complete revision
to the `ConfigSink` (the agent: reconciler on its worker thread), answer Ack or Nack, and send
Status on change and every `status_interval` seconds. When the stream ends the client
reconnects:

* Goodbye SHUTTING_DOWN: at once (to another replica); a second immediate reconnect within
  `backoff.maximum` seconds uses the backoff instead, so a controller that keeps saying it is
  shutting down cannot make the agent spin.
* Goodbye REFUSED, UNAUTHENTICATED, PERMISSION_DENIED: keep retrying with backoff, logging an
  error every time (the node name or the token is wrong, or the node is not registered yet).
* Goodbye REPLACED: another agent took the node over; wait long (between max/2 and max) so two
  agents with the same name do not flap.
* UNAVAILABLE, any other status, an end without Goodbye: exponential backoff, full jitter.
  The backoff resets once a session has received configuration.

Delta whose `from_revision` is not the revision the agent holds: the agent does not apply it
(applying a delta onto another base would be silently wrong) and does not Nack it (a Nack
means "processed, these objects failed"); it closes the stream and reconnects at once with a
Hello *without* last_applied_revision, which asks for a Snapshot. The node keeps forwarding
with its current configuration meanwhile, and the Snapshot costs no dataplane call for
unchanged objects.

Late Ack: when a Nacked revision later converges (a transient failure retried successfully,
a dataplane reconnected and resynced) the client sends Ack for the same revision, so the
controller's view of the node does not stay at "failed" until the next revision.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Sequence
from typing import Final

import grpc
import grpc.aio

from switchyard.v1 import distribution_pb2 as dpb
from switchyard.v1 import distribution_pb2_grpc as dpb_grpc

from .session import Retry, Session, SessionEnd
from .sink import ConfigSink

log = logging.getLogger(__name__)

# Chunks are ~2 MiB, but one object larger than that travels alone in its chunk.
MAX_RECEIVE_BYTES: Final = 64 * 1024 * 1024
# Keepalive pings no more often than gRPC servers accept by default (5 min without data);
# a half-open connection is detected within keepalive time + timeout.
CHANNEL_OPTIONS: Final[tuple[tuple[str, int], ...]] = (
    ("grpc.max_receive_message_length", MAX_RECEIVE_BYTES),
    ("grpc.keepalive_time_ms", 300_000),
    ("grpc.keepalive_timeout_ms", 20_000),
)


# --------------------------------------------------------------------------- backoff


class Backoff:
    """Exponential backoff with full jitter: the n-th delay (0-based) is uniform in
    [0, min(maximum, minimum * 2**n)]. `reset()` after a success."""

    def __init__(
        self,
        minimum: float,
        maximum: float,
        uniform: Callable[[float, float], float] = random.uniform,
    ) -> None:
        if not 0 < minimum <= maximum:
            raise ValueError("backoff needs 0 < minimum <= maximum")
        self.minimum = minimum
        self.maximum = maximum
        self.attempts = 0
        self._uniform = uniform

    def ceiling(self) -> float:
        """The upper bound of the next delay."""
        return float(min(self.maximum, self.minimum * 2 ** min(self.attempts, 60)))

    def next(self) -> float:
        ceiling = self.ceiling()
        self.attempts += 1
        return self._uniform(0.0, ceiling)

    def long(self) -> float:
        """A long wait, for when retrying soon is known to be useless."""
        self.attempts += 1
        return self._uniform(self.maximum / 2, self.maximum)

    def reset(self) -> None:
        self.attempts = 0


class StreamClient:
    def __init__(
        self,
        *,
        target: str,
        node: str,
        sink: ConfigSink,
        token: str | None = None,
        credentials: grpc.ChannelCredentials | None = None,
        agent_version: str = "",
        capabilities: Sequence[str] = (),
        backoff: Backoff | None = None,
        status_interval: float = 10.0,
        on_reconnect: Callable[[], None] | None = None,
        channel_options: Sequence[tuple[str, int | str]] = CHANNEL_OPTIONS,
    ) -> None:
        self.target = target
        self.node = node
        self.sink = sink
        self._metadata: tuple[tuple[str, str], ...] = (
            (("authorization", f"Bearer {token}"),) if token else ()
        )
        self._credentials = credentials
        self._agent_version = agent_version
        self._capabilities = tuple(capabilities)
        self.backoff = backoff or Backoff(0.5, 30.0)
        self.status_interval = status_interval
        self._on_reconnect = on_reconnect
        self._channel_options = tuple(channel_options)
        self.want_snapshot = False
        self._ever_established = False
        self._last_immediate: float | None = None
        self._session: Session | None = None
        self.sessions = 0  # streams opened (for tests and logs)
        self.connected = asyncio.Event()  # set while a session has received configuration

    # -- called by the agent (event loop)
    def status_changed(self) -> None:
        if self._session is not None:
            self._session.status_changed()

    def reconfirm(self) -> None:
        """A dataplane was rebuilt: ACK the held revision again once it has converged."""
        if self._session is not None:
            self._session.reconfirm()

    async def run(self) -> None:
        """Connect, serve, reconnect: until cancelled."""
        while True:
            try:
                end = await self._run_session()
            except Exception as exc:  # a bug must not stop a node from ever reconnecting
                log.exception("stream session failed")
                end = SessionEnd(f"session failed: {exc!r}", loud=True)
            delay = self._delay(end)
            if end.loud:
                log.error("controller %s: %s; retrying in %.1f s", self.target, end.reason, delay)
            else:
                log.warning(
                    "controller %s: %s; reconnecting in %.1f s", self.target, end.reason, delay
                )
            if delay > 0:
                await asyncio.sleep(delay)

    # -- internals
    def _delay(self, end: SessionEnd) -> float:
        now = time.monotonic()
        if end.retry is Retry.NOW and (
            self._last_immediate is None or now - self._last_immediate > self.backoff.maximum
        ):
            self._last_immediate = now
            return 0.0
        if end.retry is Retry.LONG:
            return self.backoff.long()
        return self.backoff.next()

    def _channel(self) -> grpc.aio.Channel:
        if self._credentials is None:
            return grpc.aio.insecure_channel(self.target, options=self._channel_options)
        return grpc.aio.secure_channel(
            self.target, self._credentials, options=self._channel_options
        )

    async def _run_session(self) -> SessionEnd:
        facts = await self.sink.node_facts()
        hello = dpb.Hello(
            node=self.node,
            agent_version=self._agent_version,
            capabilities=self._capabilities,
            facts=facts,
        )
        revision = self.sink.applied_revision
        if revision is not None and not self.want_snapshot:
            hello.last_applied_revision = revision
        self.sessions += 1
        channel = self._channel()
        try:
            stub = dpb_grpc.DistributionStub(channel)
            call = stub.Connect(metadata=self._metadata)
            session = Session(self, call, hello)
            self._session = session
            try:
                return await session.run()
            finally:
                self._session = None
                self.connected.clear()
        finally:
            await channel.close(grace=None)

    def established(self) -> None:
        """The session received configuration: the controller accepted us."""
        self.backoff.reset()
        self.connected.set()
        if self._ever_established and self._on_reconnect is not None:
            self._on_reconnect()
        self._ever_established = True


def channel_credentials(
    ca: bytes, cert: bytes | None = None, key: bytes | None = None
) -> grpc.ChannelCredentials:
    """TLS credentials: the CA that signs the controller's certificate, and optionally this
    node's client certificate and key (mTLS)."""
    return grpc.ssl_channel_credentials(
        root_certificates=ca, private_key=key, certificate_chain=cert
    )
