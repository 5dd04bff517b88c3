"""Logging of the CLI: warnings and errors of libraries on stderr, as text or JSON lines
(`--log-format`, env SWITCHYARD_LOG_FORMAT). The CLI's own results go to stdout."""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from typing import Any

RESERVED = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonLines(logging.Formatter):
    """One JSON object per line: timestamp, level, logger, message, and `extra` fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in RESERVED})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def setup(log_format: str | None, level: str = "WARNING") -> None:
    chosen = log_format or os.environ.get("SWITCHYARD_LOG_FORMAT") or "text"
    handler = Stderr()
    if chosen == "json":
        handler.setFormatter(JsonLines())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    _install(handler, level)


class Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is when a record is emitted (not the stream at setup,
    which a test runner may have closed since)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


_installed: list[logging.Handler] = []


def _install(handler: logging.Handler, level: str) -> None:
    """Replace the handler installed by an earlier setup (only ours: handlers others put on
    the root logger, e.g. a test runner's, stay), and set the level."""
    root = logging.getLogger()
    for old in _installed:
        root.removeHandler(old)
    _installed[:] = [handler]
    root.addHandler(handler)
    root.setLevel(level.upper())
