"""ADD, DEL and CHECK of pod attachments, on the agent's worker thread.

An attachment becomes one local desired object (`pod-tap/...` or `pod-memif/...`) applied by
the reconciler like any other; the answer waits for that object's outcome. A failed ADD
removes the object again (the descriptor already removed whatever it made in VPP) and the
record, so nothing is left behind. DEL of an unknown attachment succeeds.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

from ..learned_routes import LocalUpdate, MergedDesired
from ..reconciler import ApplyResult, Reconciler
from .objects import MEMIF_KIND, TAP_KIND, PodInterface, PodMemif, PodTap
from .protocol import CODE_GENERIC, CODE_INVALID_CONFIG, CODE_TRY_AGAIN, AddReply, AddRequest
from .store import Attachment, AttachmentStore

SOURCE = "cni"
MAX_UNIX_PATH = 107  # sun_path holds 108 bytes with the terminating NUL
log = logging.getLogger(__name__)


class AttachError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def desired_object(attachment: Attachment) -> PodInterface:
    request = attachment.add_request
    prefixes = tuple(a.address for a in request.addresses)
    if request.mode == "memif":
        return PodMemif(
            request.container_id,
            request.ifname,
            attachment.slot,
            attachment.memif_socket,
            prefixes,
            request.unnumbered_interface,
        )
    gateways = tuple(dict.fromkeys(a.gateway for a in request.addresses if a.gateway))
    return PodTap(
        request.container_id,
        request.ifname,
        attachment.slot,
        request.netns,
        request.mtu,
        prefixes,
        gateways,
        request.unnumbered_interface,
    )


def reply_of(attachment: Attachment) -> AddReply:
    request = attachment.add_request
    return AddReply(
        vpp_interface=attachment.vpp_interface,
        mode=request.mode,
        memif_socket=attachment.memif_socket,
        netns=request.netns,
        ipam_result=request.ipam_result,
    )


class AttachmentService:
    def __init__(
        self,
        state_dir: Path,
        desired: MergedDesired,
        reconciler: Reconciler,
        published: Callable[[ApplyResult], None],
    ) -> None:
        self.store = AttachmentStore(state_dir)
        self._desired = desired
        self._reconciler = reconciler
        self._published = published

    def restore(self) -> None:
        """At start: every recorded attachment joins the desired state again."""
        objects = {o.key: o for o in (desired_object(a) for a in self.store.all())}
        result = self._apply(LocalUpdate(objects, replace=True, source=SOURCE))
        if objects:
            log.info(
                "restored %d pod attachment(s)%s",
                len(objects),
                f" ({result.created} re-created in VPP)" if result is not None else "",
            )

    def _apply(self, update: LocalUpdate) -> ApplyResult | None:
        upserts, removals = self._desired.local_update(update)
        if not upserts and not removals:
            return None
        result = self._reconciler.apply_delta(
            self._reconciler.revision, upserts, removals, remove_now=True
        )
        self._published(result)
        return result

    def add(self, request: AddRequest) -> AddReply:
        known = self.store.get(request.container_id, request.ifname)
        if known is not None:
            if known.add_request != request:
                raise AttachError(
                    CODE_GENERIC,
                    f"container {request.container_id} already has {request.ifname} with "
                    "other settings: DEL it first",
                )
            return reply_of(known)  # idempotent ADD
        slot = self.store.free_slot()
        socket = ""
        if request.mode == "memif":
            socket = os.path.join(request.memif_socket_dir, request.container_id[:64], "memif.sock")
            if len(socket.encode()) > MAX_UNIX_PATH:
                raise AttachError(
                    CODE_INVALID_CONFIG,
                    f"memif socket path {socket} is longer than {MAX_UNIX_PATH} bytes (a unix "
                    "socket's limit): use a shorter memifSocketDir",
                )
        name = f"memif{slot}/0" if request.mode == "memif" else f"tap{slot}"
        attachment = Attachment(request.model_dump(), slot, name, socket)
        value = desired_object(attachment)
        self.store.put(attachment)
        result = self._apply(LocalUpdate({value.key: value}, source=SOURCE))
        problem = _problem(result, value.key)
        if problem is not None:
            self._remove(value)
            self.store.delete(request.container_id, request.ifname)
            retry = result is not None and value.key in result.pending
            code = CODE_TRY_AGAIN if retry else CODE_GENERIC
            raise AttachError(code, f"VPP could not create the pod's interface: {problem}")
        return reply_of(attachment)

    def delete(self, container_id: str, ifname: str) -> Attachment | None:
        known = self.store.get(container_id, ifname)
        if known is None:
            return None
        self._remove(desired_object(known))
        self.store.delete(container_id, ifname)
        return known

    def _remove(self, value: PodInterface) -> None:
        self._apply(LocalUpdate(removals=frozenset({value.key}), source=SOURCE))
        for provided in value.provides():
            # What hung on the interface (cnat feature, ACL bindings) went with it.
            self._published(self._reconciler.notify_unavailable(provided))

    def lookup(self, container_id: str, ifname: str) -> AddReply | None:
        known = self.store.get(container_id, ifname)
        return reply_of(known) if known is not None else None

    def check(self, container_id: str, ifname: str) -> AddReply:
        known = self.store.get(container_id, ifname)
        if known is None:
            raise AttachError(CODE_GENERIC, f"no attachment of {ifname} to {container_id}")
        value = desired_object(known)
        descriptor = self._reconciler.descriptor(value.KIND)
        present = descriptor is not None and any(d.value == value for d in descriptor.dump())
        if not present:
            raise AttachError(
                CODE_GENERIC,
                f"VPP has no interface {known.vpp_interface} for {ifname} of container "
                f"{container_id}",
            )
        if isinstance(value, PodMemif) and not os.path.exists(value.socket_path):
            raise AttachError(CODE_GENERIC, f"memif socket {value.socket_path} is missing")
        return reply_of(known)


def _problem(result: ApplyResult | None, key: str) -> str | None:
    if result is None:
        return "not applied"
    for failure in result.failures:
        if failure.key == key:
            return failure.message
    if key in result.pending:
        return "VPP is not connected to the agent; try again later"
    return None


__all__ = ["MEMIF_KIND", "TAP_KIND", "AttachError", "AttachmentService"]
