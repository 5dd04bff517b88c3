"""Validation errors that name the exact leaf field.

A model-level validator can only fail at its model's location; `at("except[0]", ...)` tags
its message with the offending sub-path, which `error_location` moves back into the
location. Pydantic's union-member steps (`constrained-int`, `function-after[...]`) are
dropped, so that clients see field paths, never pydantic internals."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from pydantic_core import PydanticCustomError

_TAGGED = re.compile(r"^@(?P<path>[A-Za-z_][\w.\[\]]*): (?P<message>.*)$", re.S)
_STEP = re.compile(r"([A-Za-z_]\w*)|\[(\d+)\]")
_UNION_STEP = re.compile(r"^([a-z-]+\[.*\]|constrained-[a-z]+|int|str|bool|float|none)$")


def at(path: str, message: str) -> PydanticCustomError:
    """Raise this from a validator: the error is reported at `<model>.<path>`."""
    return PydanticCustomError(
        "value_error", "@{path}: {message}", {"path": path, "message": message}
    )


def error_location(loc: Sequence[int | str], message: str) -> tuple[tuple[int | str, ...], str]:
    message = message.removeprefix("Value error, ")
    parts: list[int | str] = [p for p in loc if not (isinstance(p, str) and _UNION_STEP.match(p))]
    tagged = _TAGGED.match(message)
    if tagged is not None:
        for name, index in _STEP.findall(tagged["path"]):
            parts.append(name if name else int(index))
        message = tagged["message"]
    return tuple(parts), message


def first_per_location(errors: Sequence[Any]) -> list[tuple[tuple[int | str, ...], str]]:
    """One error per field: a union of two member types fails twice for one problem."""
    seen: set[tuple[int | str, ...]] = set()
    out: list[tuple[tuple[int | str, ...], str]] = []
    for err in errors:
        loc, message = error_location(tuple(err["loc"]), str(err["msg"]))
        if loc not in seen:
            seen.add(loc)
            out.append((loc, message))
    return out
