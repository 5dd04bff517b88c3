"""A scriptable Distribution server for the agent's unit tests (not the real API server).

Each agent stream becomes a `FakeSession`: the test reads its Hello and metadata, sends
Snapshots / Deltas / Goodbyes through it, ends it with a status, and awaits the agent's
Acks and Nacks (`answer()`); Status messages are collected apart (`statuses`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import grpc
import grpc.aio

from switchyard.v1 import distribution_pb2 as dpb
from switchyard.v1 import distribution_pb2_grpc as dpb_grpc
from switchyard_contract.codec import delta_chunks, snapshot_chunks
from switchyard_contract.nodeconfig import NodeConfig, NodeDelta, NodeObject

TIMEOUT = 5.0


def objects(*items: NodeObject) -> dict[str, NodeObject]:
    return {item.key: item for item in items}


@dataclass(frozen=True)
class _End:
    code: grpc.StatusCode | None = None
    details: str = ""


class FakeSession:
    def __init__(self, node: str, hello: dpb.Hello, metadata: Mapping[str, str]) -> None:
        self.node = node
        self.hello = hello
        self.metadata = dict(metadata)
        self.received: list[dpb.AgentMessage] = []
        self.statuses: list[dpb.Status] = []
        self.answers: asyncio.Queue[dpb.Ack | dpb.Nack] = asyncio.Queue()
        self.status_arrived = asyncio.Event()
        self.closed = asyncio.Event()  # the stream ended (either side)
        self._out: asyncio.Queue[dpb.ControllerMessage | _End] = asyncio.Queue()

    @property
    def last_applied_revision(self) -> int | None:
        if self.hello.HasField("last_applied_revision"):
            return self.hello.last_applied_revision
        return None

    # -- controller -> agent
    def send(self, message: dpb.ControllerMessage) -> None:
        self._out.put_nowait(message)

    def snapshot(
        self, revision: int, items: Mapping[str, NodeObject], *, chunk_bytes: int | None = None
    ) -> list[dpb.Snapshot]:
        config = NodeConfig(self.node, dict(items))
        if chunk_bytes is None:
            chunks = list(snapshot_chunks(config, revision))
        else:
            chunks = list(snapshot_chunks(config, revision, max_bytes=chunk_bytes))
        for chunk in chunks:
            self.send(dpb.ControllerMessage(snapshot=chunk))
        return chunks

    def delta(
        self,
        from_revision: int,
        to_revision: int,
        upserts: Mapping[str, NodeObject] | None = None,
        removals: Iterable[str] = (),
    ) -> None:
        delta = NodeDelta(self.node, dict(upserts or {}), frozenset(removals))
        for chunk in delta_chunks(delta, from_revision, to_revision):
            self.send(dpb.ControllerMessage(delta=chunk))

    def goodbye(self, reason: dpb.Goodbye.Reason.ValueType, message: str = "") -> None:
        self.send(dpb.ControllerMessage(goodbye=dpb.Goodbye(reason=reason, message=message)))
        self.end()

    def end(self, code: grpc.StatusCode | None = None, details: str = "") -> None:
        """Finish the stream: OK, or with an error status."""
        self._out.put_nowait(_End(code, details))

    # -- agent -> controller
    async def answer(self, timeout: float = TIMEOUT) -> dpb.Ack | dpb.Nack:
        return await asyncio.wait_for(self.answers.get(), timeout)

    async def ack(self, timeout: float = TIMEOUT) -> int:
        answer = await self.answer(timeout)
        assert isinstance(answer, dpb.Ack), f"expected an Ack, got Nack {answer}"
        return answer.revision

    async def nack(self, timeout: float = TIMEOUT) -> dpb.Nack:
        answer = await self.answer(timeout)
        assert isinstance(answer, dpb.Nack), f"expected a Nack, got Ack {answer}"
        return answer

    async def status(
        self, predicate: Callable[[dpb.Status], bool], timeout: float = TIMEOUT
    ) -> dpb.Status:
        async def wait() -> dpb.Status:
            while True:
                for status in reversed(self.statuses):
                    if predicate(status):
                        return status
                self.status_arrived.clear()
                await self.status_arrived.wait()

        return await asyncio.wait_for(wait(), timeout)

    def _receive(self, message: dpb.AgentMessage) -> None:
        self.received.append(message)
        which = message.WhichOneof("message")
        if which == "ack":
            self.answers.put_nowait(message.ack)
        elif which == "nack":
            self.answers.put_nowait(message.nack)
        elif which == "status":
            self.statuses.append(message.status)
            self.status_arrived.set()


@dataclass
class FakeController(dpb_grpc.DistributionServicer):
    """`on_connect` (optional) scripts every new session, e.g. sends a snapshot."""

    node: str = "node-1"
    token: str | None = "secret-token"
    port: int = 0
    on_connect: Callable[[FakeSession], Coroutine[Any, Any, None]] | None = None
    credentials: grpc.ServerCredentials | None = None  # TLS when set
    all_sessions: list[FakeSession] = field(default_factory=list)
    rejected: int = 0  # streams refused for bad credentials
    peer_identities: list[object] = field(default_factory=list)  # client certificate names

    def __post_init__(self) -> None:
        self.sessions: asyncio.Queue[FakeSession] = asyncio.Queue()
        self._server: grpc.aio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def start(self) -> FakeController:
        server = grpc.aio.server()
        dpb_grpc.add_DistributionServicer_to_server(self, server)
        if self.credentials is None:
            self.port = server.add_insecure_port(f"127.0.0.1:{self.port}")
        else:
            self.port = server.add_secure_port(f"127.0.0.1:{self.port}", self.credentials)
        await server.start()
        self._server = server
        return self

    async def stop(self, grace: float | None = None) -> None:
        if self._server is not None:
            await self._server.stop(grace)
            self._server = None

    async def next_session(self, timeout: float = TIMEOUT) -> FakeSession:
        return await asyncio.wait_for(self.sessions.get(), timeout)

    async def Connect(  # type: ignore[override]
        self,
        request_iterator: object,
        context: grpc.aio.ServicerContext[dpb.AgentMessage, dpb.ControllerMessage],
    ) -> None:
        metadata = {key: str(value) for key, value in context.invocation_metadata() or ()}
        self.peer_identities.append(context.peer_identities())
        if self.token is not None and metadata.get("authorization") != f"Bearer {self.token}":
            self.rejected += 1
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "bad or missing token")
        first: object = await context.read()
        if not isinstance(first, dpb.AgentMessage) or not first.HasField("hello"):
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "Hello first")
        session = FakeSession(self.node, first.hello, metadata)
        session.received.append(first)
        self.all_sessions.append(session)

        async def pump() -> None:
            while True:
                message: object = await context.read()
                if not isinstance(message, dpb.AgentMessage):  # EOF
                    return
                session._receive(message)

        reader = asyncio.create_task(pump())
        if self.on_connect is not None:
            task = asyncio.create_task(self.on_connect(session))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        self.sessions.put_nowait(session)
        try:
            while True:
                item = await session._out.get()
                if isinstance(item, _End):
                    if item.code is not None:
                        await context.abort(item.code, item.details)
                    return
                await context.write(item)
        finally:
            reader.cancel()
            session.closed.set()
