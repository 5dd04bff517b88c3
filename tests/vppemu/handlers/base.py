"""Handler registration shared by the per-plugin modules.

A handler receives the whole emulated VPP state and the unpacked request (a
vpp_papi namedtuple). A plain request's handler returns the reply's fields
(``retval`` defaults to 0); a dump's handler returns the list of details'
fields. To fail, a handler raises ``ApiError(retval)`` *before* changing any
state; to "crash VPP" it raises ``VppCrash``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    from ..state import VppState

Fields: TypeAlias = dict[str, Any]
Result: TypeAlias = Fields | list[Fields]
Handler: TypeAlias = Callable[["VppState", Any], Result]


class Registry:
    def __init__(self) -> None:
        self.handlers: dict[str, Handler] = {}

    def __call__(self, *names: str) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            for name in names:
                if name in self.handlers:
                    raise ValueError(f"duplicate handler for {name}")
                self.handlers[name] = fn
            return fn

        return register
