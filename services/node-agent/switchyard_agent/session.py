"""One session of the distribution stream: Hello, then configuration in, Ack/Nack and Status out.
How a session ends (`SessionEnd`) tells the stream client when to reconnect (stream.py)."""

from __future__ import annotations

import asyncio
import enum
import logging
from dataclasses import dataclass
from typing import Protocol

import grpc
import grpc.aio

from switchyard.v1 import distribution_pb2 as dpb
from switchyard_contract.limits import (
    MAX_ERROR_KEY_CHARS,
    MAX_ERROR_MESSAGE_CHARS,
    MAX_NACK_ERRORS,
    clip,
)

from .sink import ApplyOutcome, ConfigSink

log = logging.getLogger(__name__)

_GOODBYE = dpb.Goodbye.Reason


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


def end_for_status(code: grpc.StatusCode, details: str | None) -> SessionEnd:
    text = f"{code.name}: {details or ''}".rstrip(": ")
    if code in _LOUD_CODES:
        return SessionEnd(f"the controller rejects this agent's credentials ({text})", loud=True)
    return SessionEnd(f"stream ended with {text}")


def end_for_goodbye(goodbye: dpb.Goodbye) -> SessionEnd:
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


def nack_for(outcome: ApplyOutcome) -> dpb.Nack:
    """The Nack of a failed revision, within the controller's limits: the first
    MAX_NACK_ERRORS objects are listed, the message says how many more failed."""
    message = outcome.message
    unlisted = outcome.unlisted + max(0, len(outcome.errors) - MAX_NACK_ERRORS)
    if unlisted > 0:
        more = f"{unlisted} more object error(s) not listed"
        message = f"{message}; {more}" if message else more
    nack = dpb.Nack(revision=outcome.revision, message=clip(message, MAX_ERROR_MESSAGE_CHARS))
    for key, text in outcome.errors[:MAX_NACK_ERRORS]:
        nack.errors.add(
            key=clip(key, MAX_ERROR_KEY_CHARS), message=clip(text, MAX_ERROR_MESSAGE_CHARS)
        )
    return nack


class SessionOwner(Protocol):
    """What a session needs of its stream client."""

    target: str
    node: str
    sink: ConfigSink
    status_interval: float
    want_snapshot: bool  # the next Hello asks for a snapshot

    def established(self) -> None:
        """The session received configuration."""
        ...


class Session:
    def __init__(
        self,
        client: SessionOwner,
        call: grpc.aio.StreamStreamCall[dpb.AgentMessage, dpb.ControllerMessage],
        hello: dpb.Hello,
    ) -> None:
        self._client = client
        self._sink = client.sink
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

    def send(self, message: dpb.AgentMessage) -> None:
        """Queue a message of the agent's own (an attachment report) after what is queued."""
        self._out.put_nowait(message)

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
        opening = getattr(self._sink, "opening_reports", None)
        for message in opening() if opening is not None else ():
            self._out.put_nowait(message)
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
                    return end_for_status(exc.code(), exc.details())
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
        status.last_error = clip(status.last_error, MAX_ERROR_MESSAGE_CHARS)
        if force or status != self._last_status:
            self._last_status = status
            self._out.put_nowait(dpb.AgentMessage(status=status))

    async def _status_loop(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._changed.wait(), self._client.status_interval)
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
            log.info("revision %d applied: ack", outcome.revision)
        else:
            nack = nack_for(outcome)
            self._out.put_nowait(dpb.AgentMessage(nack=nack))
            first = f"{outcome.errors[0][0]}: {outcome.errors[0][1]}" if outcome.errors else ""
            log.warning(
                "revision %d: nack (%d object error(s)%s%s)",
                outcome.revision,
                len(outcome.errors) + outcome.unlisted,
                f", first {first}" if first else "",
                f", {outcome.message}" if outcome.message else "",
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
                return end_for_status(code, await self._call.details())
            assert isinstance(message, dpb.ControllerMessage)
            which = message.WhichOneof("message")
            end: SessionEnd | None = None
            if which == "snapshot":
                end = await self._on_snapshot(message.snapshot)
            elif which == "delta":
                end = await self._on_delta(message.delta)
            elif which == "goodbye":
                return end_for_goodbye(message.goodbye)
            else:
                log.warning("ignoring a controller message this agent does not know")
            if end is not None:
                return end

    def _establish(self) -> None:
        if not self._established:
            self._established = True
            self._client.established()

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
        self._client.want_snapshot = False
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
            self._client.want_snapshot = True
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
