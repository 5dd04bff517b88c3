"""Logging of every `switchyard-api` command: text or JSON lines (`--log-format`, env
SWITCHYARD_LOG_FORMAT). A JSON line has timestamp, level, logger, message and the record's
context fields (request_id, node, revision, ...) given with `extra=`."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

FORMATS = ("text", "json")
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def context_of(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **context_of(record),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class Text(logging.Formatter):
    """`time level logger message key=value ...`"""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = " ".join(f"{k}={v}" for k, v in context_of(record).items())
        return f"{line} {fields}" if fields else line


def setup(log_format: str = "text", level: str = "info", quiet_migrations: bool = False) -> None:
    """Root logging for this process; uvicorn's and alembic's loggers propagate into it."""
    handler = Stderr()
    handler.setFormatter(JsonLines() if log_format == "json" else Text())
    _install(handler, level)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    if quiet_migrations:  # /readyz checks the schema; alembic would log two lines per probe
        logging.getLogger("alembic.runtime.migration").setLevel(logging.WARNING)


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
