"""Request handlers, one module per VPP plugin / API group."""

from __future__ import annotations

from . import acl, addressing, cnat, gre, interfaces, ip, lb, memclnt, memif, tap
from .base import Handler

MODULES = (memclnt, interfaces, addressing, gre, cnat, lb, acl, ip, tap, memif)


def all_handlers() -> dict[str, Handler]:
    merged: dict[str, Handler] = {}
    for module in MODULES:
        for name, fn in module.handles.handlers.items():
            if name in merged:
                raise ValueError(f"two handlers for {name}")
            merged[name] = fn
    return merged
