"""The gRPC side: authenticates agents, runs each stream (Hello → snapshot/delta → ACK/NACK)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from switchyard.v1 import distribution_pb2 as dpb
from switchyard_contract.nodeconfig import NodeDelta

from ..auth import TokenStore
from ..settings import Settings
from .hub import DistributionHub
from .intent_state import merge_deltas
from .session import AgentSession

log = logging.getLogger("switchyard.distribution")
SERVICE = "switchyard.v1.Distribution"
HELLO_TIMEOUT = 10.0
MAX_MESSAGE = 64 * 1024 * 1024


def _serialize(message: bytes | dpb.ControllerMessage) -> bytes:
    # Messages are serialized once by the hub and shared by every stream that sends them.
    return message if isinstance(message, bytes) else message.SerializeToString()


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
    ) -> AsyncIterator[bytes | dpb.ControllerMessage]:
        token = _bearer(context)
        node = await asyncio.to_thread(self.tokens.node_of, token) if token else None
        if node is None:
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "missing or invalid node token")
        try:
            first = await asyncio.wait_for(anext(requests), HELLO_TIMEOUT)
        except (TimeoutError, StopAsyncIteration):
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "expected Hello first")
        if first.WhichOneof("message") != "hello":
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "expected Hello first")
        hello = first.hello
        if hello.node != node:
            await context.abort(
                grpc.StatusCode.PERMISSION_DENIED,
                f"this token belongs to node {node!r}; it cannot connect as {hello.node!r}",
            )
        assert node is not None
        await self.hub.ready.wait()
        session = self.hub.register(node)
        last = hello.last_applied_revision if hello.HasField("last_applied_revision") else None
        self.hub.status.connected(node, hello.agent_version, last)
        log.info(
            "agent %s connected (version %s, last applied %s)",
            node,
            hello.agent_version,
            last,
            extra={"node": node, "revision": last},
        )
        if last is not None:
            revision, delta = await self.hub.resume(node, last)
            if delta is not None:
                session.needs_snapshot = False
                session.sent_revision = last
                session.offer(delta, revision)
        reader = asyncio.create_task(self._read(requests, session))
        try:
            async for message in self._write(session):
                yield message
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
            if self.hub.unregister(session):
                self.hub.status.disconnected(node)
            log.info("agent %s disconnected", node, extra={"node": node})

    async def _read(self, requests: AsyncIterator[dpb.AgentMessage], session: AgentSession) -> None:
        status = self.hub.status
        with contextlib.suppress(grpc.aio.AioRpcError, asyncio.CancelledError):
            async for message in requests:
                kind = message.WhichOneof("message")
                if kind == "ack":
                    session.record_ack(message.ack.revision)
                    status.report(session.node, message.ack.revision, [], "")
                elif kind == "nack":
                    errors = [{"key": e.key, "message": e.message} for e in message.nack.errors]
                    session.record_ack(message.nack.revision)
                    status.report(session.node, message.nack.revision, errors, message.nack.message)
                elif kind == "status":
                    reported = message.status
                    status.agent_status(
                        session.node, dict(reported.components), len(reported.pending_keys)
                    )
                else:
                    session.close(dpb.Goodbye.REASON_PROTOCOL_ERROR, f"unexpected {kind}")
        session.close(dpb.Goodbye.REASON_UNSPECIFIED, "the agent closed its stream")

    async def _write(self, session: AgentSession) -> AsyncIterator[bytes | dpb.ControllerMessage]:
        while True:
            await session.wake.wait()
            session.wake.clear()
            if session.goodbye is not None:
                reason, text = session.goodbye
                if reason != dpb.Goodbye.REASON_UNSPECIFIED:
                    yield dpb.ControllerMessage(goodbye=dpb.Goodbye(reason=reason, message=text))  # type: ignore[arg-type]
                return
            if session.needs_snapshot:
                session.needs_snapshot = False
                session.take_owed()
                revision, chunks = await self.hub.snapshot(session.node)
                for chunk in chunks:
                    self.hub.count_sent("snapshot", len(chunk))
                    yield chunk
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
            for chunk in self.hub.deltas.encode(delta, session.sent_revision, to_revision):
                self.hub.count_sent("delta", len(chunk))
                yield chunk
            session.sent_revision = to_revision


def build_server(
    service: DistributionService, settings: Settings
) -> tuple[grpc.aio.Server, health.aio.HealthServicer, int]:
    """The server with the distribution and health services, bound (port 0 picks one)."""
    server = grpc.aio.server(
        options=[
            ("grpc.so_reuseport", 0),  # two replicas must not silently share a port
            ("grpc.max_send_message_length", MAX_MESSAGE),
            ("grpc.max_receive_message_length", MAX_MESSAGE),
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
                        response_serializer=_serialize,
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
