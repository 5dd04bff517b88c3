"""memif plugin: socket filenames, memif_create_v2 / memif_delete / memif_dump.

Socket id 0 is VPP's default socket (/run/vpp/memif.sock) and cannot be changed or deleted.
A socket id in use by an interface cannot be deleted. Interfaces are named
memif<socket_id>/<id>; (socket, id) is unique. As VPP does, the first master interface on a
socket makes it listen (a real unix socket file the pod's side could connect to); the file
goes with the socket's last interface, or with VPP.
"""

from __future__ import annotations

import contextlib
import os
import socket
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..convert import U32_MAX
from ..errors import INVALID_ARGUMENT, INVALID_SW_IF_INDEX, INVALID_VALUE, VALUE_EXIST, ApiError
from .base import Fields, Registry

if TYPE_CHECKING:
    from ..state import VppState

handles = Registry()
DEFAULT_SOCKET = "/run/vpp/memif.sock"


@dataclass
class MemifState:
    sockets: dict[int, str] = field(default_factory=lambda: {0: DEFAULT_SOCKET})
    interfaces: dict[int, Fields] = field(default_factory=dict)  # sw_if_index -> memif
    listening: dict[int, socket.socket] = field(default_factory=dict)  # socket id -> listener

    def listen(self, socket_id: int) -> None:
        path = self.sockets[socket_id]
        if socket_id in self.listening or socket_id == 0:
            return
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
            listener.bind(path)
            listener.listen(1)
        except OSError as exc:
            listener.close()
            raise ApiError(INVALID_ARGUMENT, f"cannot listen on {path}: {exc}") from exc
        self.listening[socket_id] = listener

    def _unlisten(self, socket_id: int) -> None:
        listener = self.listening.pop(socket_id, None)
        if listener is not None:
            listener.close()
            with contextlib.suppress(OSError):
                os.unlink(self.sockets[socket_id])

    def forget(self, sw_if_index: int) -> None:
        gone = self.interfaces.pop(sw_if_index, None)
        if gone is not None and not any(
            m["socket_id"] == gone["socket_id"] for m in self.interfaces.values()
        ):
            self._unlisten(gone["socket_id"])

    def close(self) -> None:
        for socket_id in list(self.listening):
            self._unlisten(socket_id)

    def snapshot(self) -> Fields:
        return {
            "sockets": {str(k): v for k, v in sorted(self.sockets.items())},
            "interfaces": [{"sw_if_index": i, **m} for i, m in sorted(self.interfaces.items())],
        }


@handles("memif_socket_filename_add_del_v2")
def memif_socket_filename_add_del_v2(state: VppState, mp: Any) -> Fields:
    memif = state.memif
    socket_id = mp.socket_id
    if not mp.is_add:
        if socket_id in (0, U32_MAX) or socket_id not in memif.sockets:
            raise ApiError(INVALID_ARGUMENT, f"socket id {socket_id}")
        if any(m["socket_id"] == socket_id for m in memif.interfaces.values()):
            raise ApiError(VALUE_EXIST, f"socket id {socket_id} is in use")
        del memif.sockets[socket_id]
        return {"socket_id": socket_id}
    if socket_id == U32_MAX:
        socket_id = next(i for i in range(1, 2**32) if i not in memif.sockets)
    elif socket_id == 0 or socket_id in memif.sockets:
        raise ApiError(VALUE_EXIST, f"socket id {socket_id} exists")
    if not mp.socket_filename:
        raise ApiError(INVALID_ARGUMENT, "empty socket filename")
    memif.sockets[socket_id] = mp.socket_filename
    return {"socket_id": socket_id}


@handles("memif_create_v2")
def memif_create_v2(state: VppState, mp: Any) -> Fields:
    memif = state.memif
    if mp.socket_id not in memif.sockets:
        raise ApiError(INVALID_ARGUMENT, f"no socket id {mp.socket_id}")
    if any(m["socket_id"] == mp.socket_id and m["id"] == mp.id for m in memif.interfaces.values()):
        raise ApiError(VALUE_EXIST, f"memif {mp.socket_id}/{mp.id} exists")
    if mp.ring_size and mp.ring_size & (mp.ring_size - 1):
        raise ApiError(INVALID_VALUE, "ring_size must be a power of 2")
    name = f"memif{mp.socket_id}/{mp.id}"
    if int(mp.role) == 0:
        memif.listen(mp.socket_id)
    sw_if_index = state.interfaces.add(name, "memif", flags=0)
    memif.interfaces[sw_if_index] = {
        "id": mp.id,
        "socket_id": mp.socket_id,
        "role": int(mp.role),
        "mode": int(mp.mode),
        "ring_size": mp.ring_size or 1024,
        "buffer_size": mp.buffer_size or 2048,
        "if_name": name,
    }
    return {"sw_if_index": sw_if_index}


@handles("memif_delete")
def memif_delete(state: VppState, mp: Any) -> Fields:
    if mp.sw_if_index not in state.memif.interfaces:
        raise ApiError(INVALID_SW_IF_INDEX, f"sw_if_index {mp.sw_if_index} is not a memif")
    state.delete_interface(mp.sw_if_index)
    return {}


@handles("memif_dump")
def memif_dump(state: VppState, mp: Any) -> list[Fields]:
    out = []
    for index, m in sorted(state.memif.interfaces.items()):
        iface = state.interfaces.by_index[index]
        out.append(
            {
                "sw_if_index": index,
                "hw_addr": iface.mac,
                "id": m["id"],
                "role": m["role"],
                "mode": m["mode"],
                "zero_copy": True,
                "socket_id": m["socket_id"],
                "ring_size": m["ring_size"],
                "buffer_size": m["buffer_size"],
                "flags": iface.flags & 1,  # admin state; never link-up: no peer connects here
                "if_name": m["if_name"],
            }
        )
    return out
