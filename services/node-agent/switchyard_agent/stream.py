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
import enum
import logging
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Protocol

import grpc
import grpc.aio

from switchyard.v1 import distribution_pb2 as dpb
from switchyard.v1 import distribution_pb2_grpc as dpb_grpc
from switchyard.v1 import nodeconfig_pb2 as pb
from switchyard_contract.codec import CodecError, from_proto
from switchyard_contract.nodeconfig import NodeObject

log = logging.getLogger(__name__)

# Status messages list at most this many pending keys (the count is in the metrics).
MAX_STATUS_KEYS: Final = 1000
# Chunks are ~2 MiB, but one object larger than that travels alone in its chunk.
MAX_RECEIVE_BYTES: Final = 64 * 1024 * 1024
# Keepalive pings no more often than gRPC servers accept by default (5 min without data);
# a half-open connection is detected within keepalive time + timeout.
CHANNEL_OPTIONS: Final[tuple[tuple[str, int], ...]] = (
    ("grpc.max_receive_message_length", MAX_RECEIVE_BYTES),
    ("grpc.keepalive_time_ms", 300_000),
    ("grpc.keepalive_timeout_ms", 20_000),
)
_GOODBYE = dpb.Goodbye.Reason


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


# --------------------------------------------------------------------------- decoding


def decode_objects(
    messages: Iterable[pb.NodeObject],
    into: dict[str, NodeObject],
    errors: dict[str, str],
) -> None:
    """Decode object by object: a bad object lands in `errors` (by key) and the rest decode.
    A duplicate key keeps its first object and is reported."""
    for message in messages:
        try:
            obj = from_proto(message)
        except CodecError as exc:
            errors.setdefault(exc.key, f"cannot decode: {exc.message}")
            continue
        if obj.key in into:
            errors.setdefault(obj.key, "cannot decode: duplicate key")
            continue
        into[obj.key] = obj


# --------------------------------------------------------------------------- the sink


@dataclass(frozen=True, slots=True)
class ApplyOutcome:
    """How one revision went: Ack when `ok`, else Nack with the per-object errors."""

    revision: int
    errors: tuple[tuple[str, str], ...] = ()  # (key, message), sorted by key
    message: str = ""  # not about one object

    @property
    def ok(self) -> bool:
        return not self.errors and not self.message


class ConfigSink(Protocol):
    """What the stream hands configuration to (the agent). The async methods may take long
    (they wait for the reconciler); the others are cheap reads of the latest state."""

    @property
    def applied_revision(self) -> int | None:
        """The revision of the configuration held and applied; None when none."""
        ...

    async def node_facts(self) -> dpb.NodeFacts: ...

    async def apply_snapshot(self, chunks: Sequence[dpb.Snapshot]) -> ApplyOutcome: ...

    async def apply_delta(self, chunks: Sequence[dpb.Delta]) -> ApplyOutcome: ...

    def status(self) -> dpb.Status: ...

    def converged(self, revision: int) -> bool:
        """Whether `revision` is the one held and the node now has no failures."""
        ...


# --------------------------------------------------------------------------- sessions


class Retry(enum.Enum):
    NOW = "now"
    BACKOFF = "backoff"
    LONG = "long"


@dataclass(frozen=True, slots=True)
class SessionEnd:
    reason: str
    retry: Retry = Retry.BACKOFF
    loud: bool = False  # an error an operator must fix: logged as an error


_LOUD_CODES = (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED)


def _end_for_status(code: grpc.StatusCode, details: str | None) -> SessionEnd:
    text = f"{code.name}: {details or ''}".rstrip(": ")
    if code in _LOUD_CODES:
        return SessionEnd(f"the controller rejects this agent's credentials ({text})", loud=True)
    return SessionEnd(f"stream ended with {text}")


def _end_for_goodbye(goodbye: dpb.Goodbye) -> SessionEnd:
    name = _GOODBYE.Name(goodbye.reason) if goodbye.reason in _GOODBYE.values() else "UNKNOWN"
    text = f"Goodbye {name}" + (f": {goodbye.message}" if goodbye.message else "")
    if goodbye.reason == dpb.Goodbye.REASON_SHUTTING_DOWN:
        return SessionEnd(text, Retry.NOW)
    if goodbye.reason == dpb.Goodbye.REASON_REFUSED:
        return SessionEnd(f"the controller refuses this node ({text})", loud=True)
    if goodbye.reason == dpb.Goodbye.REASON_REPLACED:
        return SessionEnd(f"another agent took this node over ({text})", Retry.LONG)
    if goodbye.reason == dpb.Goodbye.REASON_PROTOCOL_ERROR:
        return SessionEnd(text, loud=True)
    return SessionEnd(text)


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
        self._sink = sink
        self._metadata: tuple[tuple[str, str], ...] = (
            (("authorization", f"Bearer {token}"),) if token else ()
        )
        self._credentials = credentials
        self._agent_version = agent_version
        self._capabilities = tuple(capabilities)
        self.backoff = backoff or Backoff(0.5, 30.0)
        self._status_interval = status_interval
        self._on_reconnect = on_reconnect
        self._channel_options = tuple(channel_options)
        self._want_snapshot = False
        self._ever_established = False
        self._last_immediate: float | None = None
        self._session: _Session | None = None
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
        facts = await self._sink.node_facts()
        hello = dpb.Hello(
            node=self.node,
            agent_version=self._agent_version,
            capabilities=self._capabilities,
            facts=facts,
        )
        revision = self._sink.applied_revision
        if revision is not None and not self._want_snapshot:
            hello.last_applied_revision = revision
        self.sessions += 1
        channel = self._channel()
        try:
            stub = dpb_grpc.DistributionStub(channel)
            call = stub.Connect(metadata=self._metadata)
            session = _Session(self, call, hello)
            self._session = session
            try:
                return await session.run()
            finally:
                self._session = None
                self.connected.clear()
        finally:
            await channel.close(grace=None)

    def _established(self) -> None:
        """The session received configuration: the controller accepted us."""
        self.backoff.reset()
        self.connected.set()
        if self._ever_established and self._on_reconnect is not None:
            self._on_reconnect()
        self._ever_established = True


class _Session:
    def __init__(
        self,
        client: StreamClient,
        call: grpc.aio.StreamStreamCall[dpb.AgentMessage, dpb.ControllerMessage],
        hello: dpb.Hello,
    ) -> None:
        self._client = client
        self._sink = client._sink
        self._call = call
        self._hello = hello
        self._out: asyncio.Queue[dpb.AgentMessage] = asyncio.Queue()
        self._changed = asyncio.Event()
        self._established = False
        self._last_status: dpb.Status | None = None
        self._last_answer: tuple[int, bool] | None = None  # (revision, acked)
        self._snapshot_chunks: list[dpb.Snapshot] = []
        self._delta_chunks: list[dpb.Delta] = []
        self._applying = False  # a revision is being applied: its answer goes out first

    def status_changed(self) -> None:
        self._changed.set()

    def reconfirm(self) -> None:
        if self._last_answer is not None:
            self._last_answer = (self._last_answer[0], False)
        self._changed.set()

    async def run(self) -> SessionEnd:
        log.info(
            "connecting to controller %s as node %s (last applied revision %s)",
            self._client.target,
            self._hello.node,
            self._hello.last_applied_revision
            if self._hello.HasField("last_applied_revision")
            else "none",
        )
        self._out.put_nowait(dpb.AgentMessage(hello=self._hello))
        self._queue_status(force=True)
        reader = asyncio.create_task(self._read_loop(), name="stream-reader")
        writer = asyncio.create_task(self._write_loop(), name="stream-writer")
        status = asyncio.create_task(self._status_loop(), name="stream-status")
        try:
            done, _ = await asyncio.wait({reader, writer}, return_when=asyncio.FIRST_COMPLETED)
            if reader not in done:
                # The writer failed first; the reader usually learns the real reason (a
                # Goodbye or the status) right after.
                await asyncio.wait({reader}, timeout=1.0)
        finally:
            for task in (reader, writer, status):
                task.cancel()
            self._call.cancel()
            await asyncio.gather(reader, writer, status, return_exceptions=True)
        for task in (reader, writer):
            if task.done() and not task.cancelled():
                exc = task.exception()
                if exc is None:
                    result = task.result()
                    assert isinstance(result, SessionEnd)
                    return result
                if isinstance(exc, grpc.aio.AioRpcError):
                    return _end_for_status(exc.code(), exc.details())
                if not isinstance(exc, asyncio.InvalidStateError):
                    log.error("stream failed", exc_info=exc)
                    return SessionEnd(f"stream failed: {exc!r}")
        return SessionEnd("stream closed")

    # -- outgoing
    async def _write_loop(self) -> None:
        while True:
            message = await self._out.get()
            await self._call.write(message)

    def _queue_status(self, *, force: bool) -> None:
        status = self._sink.status()
        if force or status != self._last_status:
            self._last_status = status
            self._out.put_nowait(dpb.AgentMessage(status=status))

    async def _status_loop(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._changed.wait(), self._client._status_interval)
                periodic = False
            except TimeoutError:
                periodic = True
            self._changed.clear()
            if self._applying:
                continue  # the reader answers first, then reports the status itself
            self._late_ack()
            self._queue_status(force=periodic)

    def _answer(self, outcome: ApplyOutcome) -> None:
        if outcome.ok:
            self._out.put_nowait(dpb.AgentMessage(ack=dpb.Ack(revision=outcome.revision)))
            log.info(
                "revision %d applied: ack", outcome.revision, extra={"revision": outcome.revision}
            )
        else:
            nack = dpb.Nack(revision=outcome.revision, message=outcome.message)
            for key, message in outcome.errors:
                nack.errors.add(key=key, message=message)
            self._out.put_nowait(dpb.AgentMessage(nack=nack))
            first = f"{outcome.errors[0][0]}: {outcome.errors[0][1]}" if outcome.errors else ""
            log.warning(
                "revision %d: nack (%d object error(s)%s%s)",
                outcome.revision,
                len(outcome.errors),
                f", first {first}" if first else "",
                f", {outcome.message}" if outcome.message else "",
                extra={"revision": outcome.revision},
            )
        self._last_answer = (outcome.revision, outcome.ok)

    def _late_ack(self) -> None:
        if self._last_answer is None:
            return
        revision, acked = self._last_answer
        if not acked and self._sink.converged(revision):
            self._answer(ApplyOutcome(revision))

    # -- incoming
    async def _read_loop(self) -> SessionEnd:
        while True:
            message = await self._call.read()
            if message is grpc.aio.EOF:
                code = await self._call.code()
                if code is grpc.StatusCode.OK:
                    return SessionEnd("the controller closed the stream")
                return _end_for_status(code, await self._call.details())
            assert isinstance(message, dpb.ControllerMessage)
            which = message.WhichOneof("message")
            end: SessionEnd | None = None
            if which == "snapshot":
                end = await self._on_snapshot(message.snapshot)
            elif which == "delta":
                end = await self._on_delta(message.delta)
            elif which == "goodbye":
                return _end_for_goodbye(message.goodbye)
            else:
                log.warning("ignoring a controller message this agent does not know")
            if end is not None:
                return end

    def _establish(self) -> None:
        if not self._established:
            self._established = True
            self._client._established()

    def _abandon_partial(self) -> None:
        """A chunk sequence interrupted by another revision or message type."""
        partial: list[dpb.Snapshot] | list[dpb.Delta] = self._snapshot_chunks or self._delta_chunks
        if not partial:
            return
        first = partial[0]
        revision = first.revision if isinstance(first, dpb.Snapshot) else first.to_revision
        self._snapshot_chunks = []
        self._delta_chunks = []
        message = "incomplete: the chunk sequence was interrupted"
        self._answer(ApplyOutcome(revision, message=message))

    async def _on_snapshot(self, chunk: dpb.Snapshot) -> SessionEnd | None:
        self._establish()
        if self._delta_chunks or (
            self._snapshot_chunks and self._snapshot_chunks[0].revision != chunk.revision
        ):
            self._abandon_partial()
        self._snapshot_chunks.append(chunk)
        if chunk.continued:
            return None
        chunks, self._snapshot_chunks = self._snapshot_chunks, []
        nodes = {c.node for c in chunks}
        if nodes != {self._client.node}:
            text = f"snapshot for node {', '.join(sorted(nodes))}, this is {self._client.node}"
            self._answer(ApplyOutcome(chunk.revision, message=text))
            return None
        log.info(
            "snapshot revision %d (%d object(s) in %d chunk(s))",
            chunk.revision,
            sum(len(c.objects) for c in chunks),
            len(chunks),
        )
        self._applying = True
        try:
            outcome = await self._sink.apply_snapshot(chunks)
        finally:
            self._applying = False
        self._client._want_snapshot = False
        self._answer(outcome)
        self._queue_status(force=False)
        return None

    async def _on_delta(self, chunk: dpb.Delta) -> SessionEnd | None:
        self._establish()
        ident = (chunk.from_revision, chunk.to_revision)
        if self._snapshot_chunks or (
            self._delta_chunks
            and (self._delta_chunks[0].from_revision, self._delta_chunks[0].to_revision) != ident
        ):
            self._abandon_partial()
        self._delta_chunks.append(chunk)
        if chunk.continued:
            return None
        chunks, self._delta_chunks = self._delta_chunks, []
        held = self._sink.applied_revision
        if chunk.from_revision != held:
            self._client._want_snapshot = True
            return SessionEnd(
                f"delta {chunk.from_revision}->{chunk.to_revision} does not start from the "
                f"held revision {held}: reconnecting for a snapshot",
                Retry.NOW,
            )
        nodes = {c.node for c in chunks}
        if nodes != {self._client.node}:
            text = f"delta for node {', '.join(sorted(nodes))}, this is {self._client.node}"
            self._answer(ApplyOutcome(chunk.to_revision, message=text))
            return None
        log.info(
            "delta %d->%d (%d upsert(s), %d removal(s))",
            chunk.from_revision,
            chunk.to_revision,
            sum(len(c.upserts) for c in chunks),
            sum(len(c.removals) for c in chunks),
        )
        self._applying = True
        try:
            outcome = await self._sink.apply_delta(chunks)
        finally:
            self._applying = False
        self._answer(outcome)
        self._queue_status(force=False)
        return None


def channel_credentials(
    ca: bytes, cert: bytes | None = None, key: bytes | None = None
) -> grpc.ChannelCredentials:
    """TLS credentials: the CA that signs the controller's certificate, and optionally this
    node's client certificate and key (mTLS)."""
    return grpc.ssl_channel_credentials(
        root_certificates=ca, private_key=key, certificate_chain=cert
    )
