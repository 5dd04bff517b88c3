"""The drills' TCP proxy does what they rely on: a cut reaches both ends at once (the target
too: the stream-cut drill waits for the API to see its stream end), `down()` refuses new
connections, `up()` and a mere `cut()` let the next one through on the same port."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from .tcp_proxy import TcpProxy

ROUNDS = 20  # the cut raced in an earlier proxy: one round alone would rarely show it


@pytest.fixture
def target() -> Iterator[socket.socket]:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(5)
        yield listener


def relayed(proxy: TcpProxy, target: socket.socket) -> tuple[socket.socket, socket.socket]:
    """A connection through the proxy, bytes checked both ways: (client end, target end)."""
    client = socket.create_connection(("127.0.0.1", proxy.port), timeout=5)
    served, _ = target.accept()
    served.settimeout(5)
    client.sendall(b"ping")
    assert served.recv(4) == b"ping"
    served.sendall(b"pong")
    assert client.recv(4) == b"pong"
    return client, served


def ended(end: socket.socket) -> bool:
    """The peer is gone: end of stream or reset, not silence (recv times out after 5 s)."""
    try:
        return end.recv(1) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


@pytest.mark.parametrize("break_", ["cut", "down"])
def test_a_cut_ends_both_sides_down_refuses_until_up(target: socket.socket, break_: str) -> None:
    with TcpProxy(*target.getsockname()) as proxy:
        for _ in range(ROUNDS):
            client, served = relayed(proxy, target)
            with client, served:
                cut = proxy.cut() if break_ == "cut" else proxy.down()
                assert cut == 2
                assert ended(client) and ended(served)
            if break_ == "down":
                with pytest.raises(ConnectionRefusedError):
                    socket.create_connection(("127.0.0.1", proxy.port), timeout=5)
                proxy.up()
        # A cut keeps the port open: the next round's connection went through without up().
        assert proxy.connections == ROUNDS
        assert proxy.cut() == 0
