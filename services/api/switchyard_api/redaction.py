"""Secrets never leave the API except to the node that needs them, over its own stream.

Every REST view of compiled configuration, and every text an agent reported back, passes
through here first.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from .resources.registry import BGP_PEER
from .store.store import IntentStore

REDACTED = "<redacted>"
# Fields of compiled dataplane objects that carry a secret (BgpPeer: the TCP MD5 password).
SECRET_FIELDS = frozenset({"password"})


def redacted_object(obj: Any) -> dict[str, Any]:
    """A compiled dataplane object as JSON, secrets replaced by a marker (present or not)."""
    fields = dataclasses.asdict(obj)
    for name in SECRET_FIELDS & fields.keys():
        if fields[name] is not None:
            fields[name] = REDACTED
    return {"kind": type(obj).KIND, **fields}


def scrub(text: str, secrets: Iterable[str]) -> str:
    """`text` with every occurrence of a known secret replaced (an agent's error message may
    quote the configuration it failed to apply)."""
    for secret in sorted(set(secrets), key=len, reverse=True):
        if secret:
            text = text.replace(secret, REDACTED)
    return text


def scrub_json(value: Any, secrets: Iterable[str]) -> Any:
    known = [s for s in secrets if s]
    if not known:
        return value
    if isinstance(value, str):
        return scrub(value, known)
    if isinstance(value, dict):
        return {k: scrub_json(v, known) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub_json(v, known) for v in value]
    return value


def known_secrets(store: IntentStore) -> list[str]:
    """Every secret the intent holds (BgpPeer passwords), to scrub from agent-reported text."""
    rows = store.list_all(BGP_PEER.kind)
    return [str(row.spec["password"]) for row in rows if row.spec.get("password")]
