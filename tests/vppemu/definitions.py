"""Loading of the VPP API definitions and the advertised message table."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vpp_papi.vpp_papi import VPPApiJSONFiles

# Messages of memclnt come first so that sockclnt_create gets id 15 and its
# reply id 16, the ids that vpp_papi hard-codes for the handshake.
FIRST_FILE = "memclnt.api.json"
SOCKCLNT_CREATE_ID = 15


def corrupt(crc: str) -> str:
    return f"0x{int(crc, 16) ^ 0x5A5A5A5A:08x}"


@dataclass(frozen=True)
class MessageDef:
    id: int
    name: str
    crc: str
    advertised_crc: str
    dropped: bool
    msg: Any  # vpp_papi VPPMessage
    fields: frozenset[str]

    @property
    def table_key(self) -> str:
        return f"{self.name}_{self.advertised_crc[2:]}"


class ApiDefinitions:
    """All messages of one API directory, with ids assigned like a VPP build."""

    def __init__(
        self,
        apidir: Path,
        drop_messages: tuple[str, ...] = (),
        corrupt_crcs: tuple[str, ...] = (),
    ) -> None:
        files = sorted(apidir.rglob("*.api.json"), key=_file_order)
        if not files:
            raise FileNotFoundError(f"no *.api.json under {apidir}")
        self.apidir = apidir
        self._raw: list[dict[str, Any]] = []
        self.services: dict[str, dict[str, Any]] = {}
        self.by_name: dict[str, MessageDef] = {}
        self.by_id: list[MessageDef | None] = [None]  # id 0 is never used
        drops = set(drop_messages)
        corrupts = set(corrupt_crcs)
        for path in files:
            raw = json.loads(path.read_text())
            self._raw.append(raw)
            messages, services = VPPApiJSONFiles._process_json(copy.deepcopy(raw))
            self.services.update(services)
            for m in raw.get("messages", []):
                name = m[0]
                if name in self.by_name or name not in messages:
                    continue
                crc = messages[name].crc
                mdef = MessageDef(
                    id=len(self.by_id),
                    name=name,
                    crc=crc,
                    advertised_crc=corrupt(crc) if name in corrupts else crc,
                    dropped=name in drops,
                    msg=messages[name],
                    fields=frozenset(messages[name].fields),
                )
                self.by_id.append(mdef)
                self.by_name[name] = mdef
        unknown = (drops | corrupts) - set(self.by_name)
        if unknown:
            raise KeyError(f"unknown message(s) to drop/corrupt: {sorted(unknown)}")
        sc = self.by_name.get("sockclnt_create")
        if sc is None or sc.id != SOCKCLNT_CREATE_ID:
            raise RuntimeError("memclnt definitions must give sockclnt_create id 15")
        self._api_json: str | None = None

    def message_table(self) -> list[dict[str, Any]]:
        """Entries for sockclnt_create_reply: what this 'VPP' advertises."""
        return [
            {"index": m.id, "name": m.table_key}
            for m in self.by_id
            if m is not None and not m.dropped
        ]

    def api_json(self) -> str:
        """The get_api_json payload: a JSON array of the API files, consistent
        with the advertised table (dropped messages absent, CRCs as advertised)."""
        if self._api_json is None:
            out = []
            for raw in self._raw:
                api = copy.deepcopy(raw)
                kept = []
                for m in api.get("messages", []):
                    mdef = self.by_name.get(m[0])
                    if mdef is not None and mdef.dropped:
                        continue
                    if mdef is not None and mdef.advertised_crc != mdef.crc:
                        for part in m[1:]:
                            if isinstance(part, dict) and "crc" in part:
                                part["crc"] = mdef.advertised_crc
                    kept.append(m)
                api["messages"] = kept
                out.append(api)
            self._api_json = json.dumps(out)
        return self._api_json


def _file_order(path: Path) -> tuple[int, str, str]:
    if path.name == FIRST_FILE:
        return (0, "", "")
    return (1, path.parent.name, path.name)
