"""What a manifest would change in a stored object: the parts a manifest manages, the stored
object as the manifest would leave it, and the unified diff of the two."""

from __future__ import annotations

import copy
import difflib
from typing import Any

import yaml

Doc = dict[str, Any]
SERVER_METADATA = ("resourceVersion", "uid", "creationTimestamp")
KEPT_LABELS = ("kubernetes.io/metadata.name",)  # set by the server, not by manifests


def comparable(document: Doc) -> Doc:
    """The object without what the server alone decides (status, versions, stamps)."""
    result = {k: copy.deepcopy(v) for k, v in document.items() if k not in ("status",)}
    result["metadata"] = {
        k: v for k, v in (document.get("metadata") or {}).items() if k not in SERVER_METADATA
    }
    result.pop("apiVersion", None)
    return result


def fill(given: Any, stored: Any) -> Any:
    """`given` with what it leaves out taken from `stored` (the server's defaults, allocated
    node ports): a field a manifest omits is not a change."""
    if isinstance(given, dict) and isinstance(stored, dict):
        return {**stored, **{k: fill(v, stored.get(k)) for k, v in given.items()}}
    if isinstance(given, list) and isinstance(stored, list) and len(given) == len(stored):
        return [fill(g, s) for g, s in zip(given, stored, strict=True)]
    return given


def predicted(manifest: Doc, stored: Doc | None) -> Doc:
    """The stored object as a replace with `manifest` would leave it, guessed without the
    server (`apply --dry-run=client`, `diff` when the server cannot dry-run an object)."""
    if stored is None:
        return comparable(manifest)
    before = comparable(stored)
    after: Doc = fill(comparable(manifest), before)
    metadata = after["metadata"]
    for field in ("labels", "annotations"):
        kept = {k: v for k, v in (before["metadata"].get(field) or {}).items() if k in KEPT_LABELS}
        metadata[field] = {**kept, **((manifest.get("metadata") or {}).get(field) or {})}
    return after


def unified(label: str, before: Doc | None, after: Doc) -> str:
    def lines(document: Doc | None) -> list[str]:
        if document is None:
            return []
        text: str = yaml.safe_dump(document, sort_keys=True)
        return text.splitlines(keepends=True)

    return "".join(
        difflib.unified_diff(
            lines(before),
            lines(after),
            fromfile=f"{label} (live)" if before is not None else "/dev/null",
            tofile=f"{label} (manifest)",
        )
    )
