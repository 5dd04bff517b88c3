"""PodMemif -> a memif socket of the pod's own (`memif_socket_filename_add_del_v2`, under a
directory the runtime mounts into the pod) and a memif on it with VPP as master
(`memif_create_v2`), tagged, unnumbered to the configured interface and admin-up. The pod's
own VPP or DPDK stack connects as slave and uses the addresses of the CNI result.

The socket id is the attachment's slot, so the interface's name (memif<slot>/0) is known
before it exists. A create that fails half-way removes what it made.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable

from ...attachments.objects import MEMIF_KIND, PodMemif
from ...descriptors import Dumped
from .common import VppDescriptor
from .connection import VppApiError
from .pod_interfaces import (
    bring_up,
    delete_quietly,
    dump_recorded,
    host_routes,
    record_of,
    tagged_index,
)

ROLE_MASTER = 0
MODE_ETHERNET = 0


class PodMemifDescriptor(VppDescriptor[PodMemif]):
    kind = MEMIF_KIND

    def dependencies(self, value: PodMemif) -> Iterable[str]:
        return ()

    def provides(self, value: PodMemif) -> Iterable[str]:
        return value.provides()

    def create(self, value: PodMemif) -> object:
        stale = tagged_index(self.ctx, value.tag)
        if stale is not None:
            delete_quietly(self.ctx, "memif_delete", stale)
        self._drop_socket(value.socket_id)
        os.makedirs(os.path.dirname(value.socket_path), mode=0o755, exist_ok=True)
        self.conn.call(
            "memif_socket_filename_add_del_v2",
            is_add=True,
            socket_id=value.socket_id,
            socket_filename=value.socket_path,
        )
        index: int | None = None
        try:
            reply = self.conn.call(
                "memif_create_v2",
                role=ROLE_MASTER,
                mode=MODE_ETHERNET,
                rx_queues=1,
                tx_queues=1,
                id=0,
                socket_id=value.socket_id,
                ring_size=1024,
                buffer_size=2048,
            )
            index = int(reply.sw_if_index)
            self.conn.call(
                "sw_interface_tag_add_del", is_add=True, sw_if_index=index, tag=value.tag
            )
            self.ctx.interfaces.refresh()
            bring_up(self.ctx, index, value.unnumbered_to)
            host_routes(self.ctx, index, value.prefixes, add=True)
        except Exception:
            if index is not None:
                delete_quietly(self.ctx, "memif_delete", index)
            self._drop_socket(value.socket_id)
            raise
        self.store.put(self.kind, value.key, record_of(value, index))
        return index

    def delete(self, value: PodMemif, metadata: object) -> None:
        index = tagged_index(self.ctx, value.tag)
        if index is not None:
            host_routes(self.ctx, index, value.prefixes, add=False)
            delete_quietly(self.ctx, "memif_delete", index)
        self._drop_socket(value.socket_id)
        with contextlib.suppress(OSError):
            os.unlink(value.socket_path)
        self.store.delete(self.kind, value.key)

    def _drop_socket(self, socket_id: int) -> None:
        """Forget a socket id (INVALID_ARGUMENT: there was none)."""
        try:
            self.conn.call(
                "memif_socket_filename_add_del_v2",
                is_add=False,
                socket_id=socket_id,
                socket_filename="",
            )
        except VppApiError as exc:
            if exc.retval != -73:
                raise

    def dump(self) -> Iterable[Dumped[PodMemif]]:
        return dump_recorded(self.ctx, self.kind, PodMemif)
