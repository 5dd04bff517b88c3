"""The gRPC side: authenticates agents, runs each stream (Hello → snapshot/delta → ACK/NACK)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import grpc
from google.protobuf.message import DecodeError
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from switchyard.v1 import distribution_pb2 as dpb
from switchyard_contract.limits import MAX_AGENT_MESSAGE_BYTES
from switchyard_contract.nodeconfig import NodeDelta

from ..auth import TokenStore
from ..settings import Settings
from ..store.attachments import ReportedAttachment, acceptable, record_report
from .agent_messages import hello_problem, nack_problem, reported_pending, status_problem
from .hub import DistributionHub
from .intent_state import merge_deltas
from .session import AgentSession
from .status import PENDING_LISTED

log = logging.getLogger("switchyard.distribution")
SERVICE = "switchyard.v1.Distribution"
HELLO_TIMEOUT = 10.0
MAX_MESSAGE = 64 * 1024 * 1024  # to the agent: chunks are ~2 MiB, a huge object travels alone
# Why a stream ends when an agent's bytes are not an AgentMessage (INVALID_ARGUMENT).
MALFORMED = "malformed AgentMessage: not a valid protobuf encoding"


def _bearer(context: grpc.aio.ServicerContext[Any, Any]) -> str:
    for key, value in context.invocation_metadata() or ():
        if key == "authorization" and isinstance(value, str) and value.startswith("Bearer "):
            return value[7:]
    return ""


class DistributionService:
    def __init__(self, hub: DistributionHub, tokens: TokenStore) -> None:
        self.hub = hub
        self.tokens = tokens

    async def connect(
        self,
        requests: AsyncIterator[dpb.AgentMessage],
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> None:
        """One stream. It uses the context's read/write API rather than `requests` and an
        async generator: each layer of generator costs every message of every agent."""
        token = _bearer(context)
        found = await asyncio.to_thread(self.tokens.node_token, token) if token else None
        if found is None:
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "missing or invalid node token")
        assert found is not None
        token_id, node = found
        try:
            first = await asyncio.wait_for(context.read(), HELLO_TIMEOUT)
        except TimeoutError:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "expected Hello first")
        except DecodeError:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, MALFORMED)
        if first is grpc.aio.EOF or first.WhichOneof("message") != "hello":
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "expected Hello first")
        hello = first.hello
        if (problem := hello_problem(hello)) is not None:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, problem)
        if hello.node != node:
            await context.abort(
                grpc.StatusCode.PERMISSION_DENIED,
                f"this token belongs to node {node!r}; it cannot connect as {hello.node!r}",
            )
        await self.hub.ready.wait()
        if self.hub.stopping:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "this API replica is shutting down")
        session = self.hub.register(node, token_id)
        last = hello.last_applied_revision if hello.HasField("last_applied_revision") else None
        applied = None  # the Hello's revision counts only when this replica knows it
        if last is not None:
            revision, delta = await self.hub.resume(node, last)
            if delta is not None:
                session.resumed_from(last)
                session.offer(delta, revision)
                applied = last
        self.hub.status.connected(node, hello.agent_version, applied)
        log.info(
            "agent %s connected (version %s, last applied %s, %s)",
            node,
            hello.agent_version,
            last,
            "resuming by delta" if applied is not None else "sending a snapshot",
        )
        reader = asyncio.create_task(self._read(context, session))
        try:
            await self._write(session, context)
            if session.goodbye == (dpb.Goodbye.REASON_PROTOCOL_ERROR, MALFORMED):
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT, MALFORMED)
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
            if self.hub.unregister(session):
                self.hub.status.disconnected(node)
            log.info("agent %s disconnected", node, extra={"node": node})

    async def _read(
        self, context: grpc.aio.ServicerContext[Any, Any], session: AgentSession
    ) -> None:
        try:
            while (message := await context.read()) is not grpc.aio.EOF:
                kind = message.WhichOneof("message")
                if kind == "attachments":
                    await self._attachments(session.node, message.attachments)
                    continue
                problem = self._receive(session, message, kind)
                if problem is not None:
                    log.warning("agent %s broke the protocol: %s", session.node, problem)
                    session.close(dpb.Goodbye.REASON_PROTOCOL_ERROR, problem)
                    return
        except DecodeError:
            session.close(dpb.Goodbye.REASON_PROTOCOL_ERROR, MALFORMED)
            return
        except (grpc.aio.AioRpcError, asyncio.CancelledError):
            pass
        session.close(dpb.Goodbye.REASON_UNSPECIFIED, "the agent closed its stream")

    def _receive(
        self, session: AgentSession, message: dpb.AgentMessage, kind: str | None
    ) -> str | None:
        """Record one agent message; the protocol error it is, if any (nothing recorded)."""
        status = self.hub.status
        if kind == "ack":
            revision = message.ack.revision
            if not session.accept_answer(revision):
                return f"Ack of revision {revision}, never sent on this stream"
            status.report(session.node, revision, [], "")
        elif kind == "nack":
            nack = message.nack
            if (problem := nack_problem(nack)) is not None:
                return problem
            if not session.accept_answer(nack.revision):
                return f"Nack of revision {nack.revision}, never sent on this stream"
            errors = [{"key": e.key, "message": e.message} for e in nack.errors]
            status.report(session.node, nack.revision, errors, nack.message)
        elif kind == "status":
            reported = message.status
            if (problem := status_problem(reported)) is not None:
                return problem
            count, pending = reported_pending(reported, PENDING_LISTED)
            status.agent_status(
                session.node,
                dict(reported.components),
                count,
                list(reported.retrying_keys),
                pending,
            )
        else:
            return f"unexpected {kind or 'empty message'}"
        return None

    async def _attachments(self, node: str, report: dpb.AttachmentReport) -> None:
        """Pods attached on `node` (the stream's own): stored, and the pods concerned
        recompiled. A report that cannot be stored is logged; the next stream resends all."""
        items = [
            ReportedAttachment(
                a.namespace, a.pod, a.container_id, a.interface, tuple(a.ips), a.mode, a.detached
            )
            for a in report.attachments
            if acceptable(a)
        ]
        if len(items) != len(report.attachments):
            log.warning("node %s reported malformed pod attachments: ignored", node)
        try:
            await asyncio.to_thread(record_report, self.hub.state.store, node, items, report.full)
        except Exception:
            log.exception("cannot store the attachment report of node %s", node)

    async def _write(
        self, session: AgentSession, context: grpc.aio.ServicerContext[Any, Any]
    ) -> None:
        while True:
            await session.wake.wait_and_clear()
            if session.goodbye is not None:
                reason, text = session.goodbye
                if reason != dpb.Goodbye.REASON_UNSPECIFIED:
                    goodbye = dpb.Goodbye(reason=reason, message=text)  # type: ignore[arg-type]
                    await context.write(dpb.ControllerMessage(goodbye=goodbye).SerializeToString())
                return
            if session.needs_snapshot:
                session.needs_snapshot = False
                session.take_owed()
                revision, chunks = await self.hub.snapshot(session.node)
                session.mark_sent(revision)
                for chunk in chunks:
                    self.hub.count_sent("snapshot", len(chunk))
                    await context.write(chunk)
                session.sent_revision = revision
                continue
            owed = [o for o in session.take_owed() if o.to_revision > (session.sent_revision or 0)]
            if not owed or session.sent_revision is None:
                continue
            to_revision = owed[-1].to_revision
            delta: NodeDelta = (
                owed[0].delta
                if len(owed) == 1
                else merge_deltas(session.node, (o.delta for o in owed))
            )
            session.mark_sent(to_revision)
            for chunk in self.hub.deltas.encode(delta, session.sent_revision, to_revision):
                self.hub.count_sent("delta", len(chunk))
                await context.write(chunk)
            session.sent_revision = to_revision


def build_server(
    service: DistributionService, settings: Settings
) -> tuple[grpc.aio.Server, health.aio.HealthServicer, int]:
    """The server with the distribution and health services, bound (port 0 picks one)."""
    server = grpc.aio.server(
        options=[
            ("grpc.so_reuseport", 0),  # two replicas must not silently share a port
            ("grpc.max_send_message_length", MAX_MESSAGE),
            ("grpc.max_receive_message_length", MAX_AGENT_MESSAGE_BYTES),
            ("grpc.keepalive_time_ms", 20_000),
            ("grpc.http2.min_ping_interval_without_data_ms", 5_000),
        ]
    )
    handler: Callable[..., Any] = service.connect
    server.add_generic_rpc_handlers(
        (
            grpc.method_handlers_generic_handler(
                SERVICE,
                {
                    "Connect": grpc.stream_stream_rpc_method_handler(
                        handler,
                        request_deserializer=dpb.AgentMessage.FromString,
                        # Streams write bytes: messages are serialized by the hub, most of
                        # them once for every stream that sends them.
                        response_serializer=None,
                    )
                },
            ),
        )
    )
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    address = settings.grpc_listen
    if settings.grpc_tls_cert and settings.grpc_tls_key:
        client_ca = (
            Path(settings.grpc_tls_client_ca).read_bytes() if settings.grpc_tls_client_ca else None
        )
        credentials = grpc.ssl_server_credentials(
            [(Path(settings.grpc_tls_key).read_bytes(), Path(settings.grpc_tls_cert).read_bytes())],
            root_certificates=client_ca,
            require_client_auth=client_ca is not None,
        )
        port = server.add_secure_port(address, credentials)
    else:
        port = server.add_insecure_port(address)
    return server, health_servicer, port


async def mark_serving(health_servicer: health.aio.HealthServicer) -> None:
    for name in ("", SERVICE):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
