"""HTTP over the agent's unix socket (see attachments/protocol.py), with the standard library
only: the plugin starts fast and needs nothing but this package."""

from __future__ import annotations

import http.client
import json
import socket
from typing import Any

from .spec import TRY_AGAIN_LATER, CniError

AGENT_TIMEOUT = 120.0


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self._path)
        self.sock = sock


def call(
    socket_path: str,
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
    timeout: float = AGENT_TIMEOUT,
) -> tuple[int, dict[str, Any]]:
    connection = _UnixConnection(socket_path, timeout)
    try:
        payload = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if payload is not None else {}
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        data = response.read()
    except (FileNotFoundError, ConnectionRefusedError) as exc:
        raise CniError(
            TRY_AGAIN_LATER,
            f"the switchyard agent is not running here (nothing serves {socket_path}: "
            f"{exc.strerror}); start switchyard-agent with --cni-socket {socket_path}",
        ) from None
    except (OSError, http.client.HTTPException) as exc:
        raise CniError(
            TRY_AGAIN_LATER, f"talking to the switchyard agent at {socket_path} failed: {exc}"
        ) from None
    finally:
        connection.close()
    try:
        parsed = json.loads(data) if data else {}
    except ValueError:
        parsed = {"code": 999, "msg": f"the agent answered HTTP {response.status} without JSON"}
    return response.status, parsed if isinstance(parsed, dict) else {}
