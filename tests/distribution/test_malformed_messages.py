"""A malformed protobuf from an agent ends its stream with INVALID_ARGUMENT and a plain reason,
not UNKNOWN with a Python class name (issue 10, defect 9; before the fix the status was
UNKNOWN "Exception deserializing request!")."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
import pytest

from switchyard.v1 import distribution_pb2 as dpb
from tests.api.support import LiveServer

from .test_server import grpc_port, seed

CONNECT = "/switchyard.v1.Distribution/Connect"
# Field 1 (hello), length-delimited, claiming 100 bytes that never come.
TRUNCATED = b"\x0a\x64\x0a\x02n1"


async def _send_raw(port: int, token: str, frames: list[bytes]) -> grpc.aio.AioRpcError:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        connect = channel.stream_stream(
            CONNECT,
            request_serializer=None,  # the frames go out as given
            response_deserializer=dpb.ControllerMessage.FromString,
        )

        async def requests() -> AsyncIterator[bytes]:
            for frame in frames:
                yield frame
            await asyncio.sleep(10)  # keep the stream open: the server must end it

        call = connect(requests(), metadata=[("authorization", f"Bearer {token}")])
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            async with asyncio.timeout(10):
                async for _ in call:
                    pass
        return failure.value


@pytest.mark.parametrize("position", ["first", "after-hello"])
def test_malformed_agent_message_is_invalid_argument(position: str, database_url: str) -> None:
    with LiveServer(database_url) as server:
        tokens = seed(server.client(), ("n1",))
        hello = dpb.AgentMessage(hello=dpb.Hello(node="n1", agent_version="t"))
        frames = [TRUNCATED] if position == "first" else [hello.SerializeToString(), TRUNCATED]
        error = asyncio.run(_send_raw(grpc_port(server), tokens["n1"], frames))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, error
        assert "malformed AgentMessage" in (error.details() or "")
        assert "Exception" not in (error.details() or "")
        assert "DecodeError" not in (error.details() or "")
