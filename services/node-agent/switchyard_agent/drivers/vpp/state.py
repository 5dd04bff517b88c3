"""What the driver programmed, kept agent-side and persisted across agent restarts.

VPP's dumps do not say everything: a cnat translation reads back without is_real_ip, flags,
flow hash or owner; the cnat feature and the SNAT exclude list have no dump at all; and VPP has
routes, VIPs and tunnels of its own or of other tools. So each descriptor records what it
created, and a resync identifies its own objects against those records.

The file is an append-only journal of JSON lines (`{"k": kind, "key": key, "v": record}`,
`"v": null` for a removal, `{"pid": n}` for the VPP process the records were made against), so
one change costs one short write however many objects there are; it is compacted when opened
and when it has grown to several times the live records. Lines are flushed to the OS at once
(they survive an agent crash); no fsync, because the records only have to outlive the agent,
not the host: a host reboot also empties VPP.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

log = logging.getLogger(__name__)

FILE_NAME = "vpp-driver-state.jsonl"
FORMAT = 1
COMPACT_SLACK = 1000


class StateStore:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._records: dict[str, dict[str, Any]] = {}
        self.vpp_pid: int | None = None
        self._lines = 0
        self._file: IO[str] | None = None
        self._load()
        self._compact()

    @classmethod
    def in_dir(cls, state_dir: Path | str) -> StateStore:
        directory = Path(state_dir)
        directory.mkdir(parents=True, exist_ok=True)
        return cls(directory / FILE_NAME)

    # ------------------------------------------------------------------ reading

    def get(self, kind: str, key: str) -> Any:
        return self._records.get(kind, {}).get(key)

    def items(self, kind: str) -> Iterator[tuple[str, Any]]:
        return iter(list(self._records.get(kind, {}).items()))

    def keys(self, kind: str) -> list[str]:
        return list(self._records.get(kind, {}))

    def __len__(self) -> int:
        return sum(len(section) for section in self._records.values())

    # ------------------------------------------------------------------ writing

    def put(self, kind: str, key: str, record: Any) -> None:
        section = self._records.setdefault(kind, {})
        if section.get(key) == record:
            return
        section[key] = record
        self._append({"k": kind, "key": key, "v": record})

    def put_many(self, kind: str, records: Iterable[tuple[str, Any]]) -> None:
        """Several records in one write."""
        section = self._records.setdefault(kind, {})
        lines = []
        for key, record in records:
            if section.get(key) != record:
                section[key] = record
                lines.append({"k": kind, "key": key, "v": record})
        self._append_lines(lines)

    def delete(self, kind: str, key: str) -> None:
        section = self._records.get(kind)
        if section is None or key not in section:
            return
        del section[key]
        self._append({"k": kind, "key": key, "v": None})

    def set_vpp_pid(self, pid: int) -> None:
        if self.vpp_pid != pid:
            self.vpp_pid = pid
            self._append({"pid": pid})

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    # ------------------------------------------------------------------ journal

    def _append(self, line: dict[str, Any]) -> None:
        self._append_lines([line])

    def _append_lines(self, lines: list[dict[str, Any]]) -> None:
        if not lines:
            return
        if self._file is None:
            self._file = self.path.open("a", encoding="utf-8")
        self._file.write("".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines))
        self._file.flush()
        self._lines += len(lines)
        if self._lines > 4 * len(self) + COMPACT_SLACK:
            self._compact()

    def _load(self) -> None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return
        for number, raw in enumerate(text.splitlines(), 1):
            if not raw.strip():
                continue
            try:
                line = json.loads(raw)
            except json.JSONDecodeError:
                # A torn last line (crash mid-write) loses only that change.
                log.warning("%s:%d: unreadable line skipped", self.path, number)
                continue
            if "pid" in line:
                self.vpp_pid = line["pid"]
            elif "k" in line:
                section = self._records.setdefault(line["k"], {})
                if line.get("v") is None:
                    section.pop(line["key"], None)
                else:
                    section[line["key"]] = line["v"]

    def _compact(self) -> None:
        self.close()
        tmp = self.path.with_name(self.path.name + ".tmp")
        lines = [json.dumps({"format": FORMAT})]
        if self.vpp_pid is not None:
            lines.append(json.dumps({"pid": self.vpp_pid}))
        for kind, section in self._records.items():
            for key, record in section.items():
                lines.append(
                    json.dumps({"k": kind, "key": key, "v": record}, separators=(",", ":"))
                )
        with tmp.open("w", encoding="utf-8") as out:
            out.write("\n".join(lines) + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, self.path)
        self._lines = len(lines)
