"""The attachment records: one JSON file per (container, ifname) under
`<state_dir>/attachments/`, written atomically before the agent answers, so attachments
survive agent restarts (and, re-created from them, VPP restarts)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .protocol import AddRequest


@dataclass(frozen=True, slots=True)
class Attachment:
    request: dict[str, Any]  # the AddRequest, by field name
    slot: int  # tap id, or memif socket id
    vpp_interface: str
    memif_socket: str = ""

    @property
    def add_request(self) -> AddRequest:
        return AddRequest.model_validate(self.request)


class AttachmentStore:
    def __init__(self, state_dir: Path) -> None:
        self.directory = state_dir / "attachments"
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)

    def _path(self, container_id: str, ifname: str) -> Path:
        digest = hashlib.sha256(f"{container_id}/{ifname}".encode()).hexdigest()[:32]
        return self.directory / f"{digest}.json"

    def get(self, container_id: str, ifname: str) -> Attachment | None:
        try:
            return Attachment(**json.loads(self._path(container_id, ifname).read_text()))
        except FileNotFoundError:
            return None

    def all(self) -> list[Attachment]:
        out = []
        for path in sorted(self.directory.glob("*.json")):
            with contextlib.suppress(ValueError, TypeError, OSError):
                out.append(Attachment(**json.loads(path.read_text())))
        return out

    def put(self, attachment: Attachment) -> None:
        request = attachment.add_request
        path = self._path(request.container_id, request.ifname)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(asdict(attachment)))
        os.replace(temporary, path)

    def delete(self, container_id: str, ifname: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path(container_id, ifname).unlink()

    def free_slot(self) -> int:
        """The lowest slot no recorded attachment uses (slot 0 is VPP's default memif socket,
        so slots start at 1)."""
        used = {a.slot for a in self.all()}
        return next(slot for slot in range(1, 1 << 20) if slot not in used)
