"""Compile problems: intent the compiler could not turn into dataplane objects."""

from __future__ import annotations

from dataclasses import dataclass

from ..resources.intent import ObjectRef


@dataclass(frozen=True, slots=True)
class CompileError:
    """Intent that could not be compiled (e.g. a gre4 LB whose backend node has no IPv4)."""

    ref: ObjectRef
    message: str
    node: str = ""  # empty: affects every node
