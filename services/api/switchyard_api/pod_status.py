"""Writes of a Pod's status subresource: conditions only, spec and labels untouched.

The same rules as every write: preconditions, no-op detection (an unchanged status takes no
revision), and the selector endpoints that depend on the pod's readiness change in the same
transaction."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from . import endpoint_controller
from .errors import ApiError, bad_request, invalid, not_found
from .representation import validation_problem
from .resources.compat import strip_ignored
from .resources.pod_status import PodStatusDocument
from .resources.registry import POD
from .store.models import StoredObject
from .store.store import IntentStore
from .writes import Preconditions, check_preconditions, merge_patch


def replace_status(
    store: IntentStore,
    namespace: str,
    name: str,
    document: dict[str, Any],
    pre: Preconditions,
    *,
    node: str | None,
    warnings: list[str],
) -> StoredObject:
    """PUT: `document` is a Pod whose status is taken. `node` (for a node token) must be the
    pod's own node."""
    return _write(store, namespace, name, lambda _row: document, pre, node, warnings)


def patch_status(
    store: IntentStore,
    namespace: str,
    name: str,
    patch: dict[str, Any],
    pre: Preconditions,
    *,
    node: str | None,
    warnings: list[str],
) -> StoredObject:
    """PATCH: an RFC 7396 merge patch onto {"status": <stored status>}."""

    def merged(row: StoredObject) -> dict[str, Any]:
        result = merge_patch({"status": dict(row.status or {})}, patch)
        if not isinstance(result, dict):
            raise bad_request("a merge patch of an object must be a JSON object")
        result.setdefault("status", {})
        return result

    return _write(store, namespace, name, merged, pre, node, warnings)


def _write(
    store: IntentStore,
    namespace: str,
    name: str,
    build: Any,
    pre: Preconditions,
    node: str | None,
    warnings: list[str],
) -> StoredObject:
    with store.write() as tx:
        tx.begin_write()
        row = tx.get(POD.kind, namespace, name)
        if row is None:
            raise not_found(f"Pod {namespace}/{name}")
        if node is not None and row.spec.get("nodeName") != node:
            raise ApiError(
                403,
                "Forbidden",
                f"the token of node {node} may only report the status of pods on {node}; "
                f"Pod {namespace}/{name} is on {row.spec.get('nodeName')}",
            )
        check_preconditions(POD, namespace, name, row, pre)
        document = build(row)
        wanted = (document.get("metadata") or {}).get("resourceVersion")
        if wanted not in (None, ""):
            check_preconditions(POD, namespace, name, row, Preconditions(if_match=str(wanted)))
        try:
            parsed = PodStatusDocument.model_validate(document)
        except ValidationError as exc:
            raise validation_problem(exc) from None
        if parsed.metadata.name not in (None, name):
            raise invalid("metadata.name", f"{parsed.metadata.name!r} is not the path's {name!r}")
        if "spec" in parsed.model_fields_set:
            warnings.append("spec")
        warnings.extend(strip_ignored(parsed.status, "status"))
        status = parsed.status.model_dump(mode="json", exclude_defaults=True)
        if status == (row.status or {}):
            return row  # a no-op: no revision
        written = tx.put(
            POD.kind,
            namespace,
            name,
            labels=dict(row.labels),
            annotations=dict(row.annotations),
            spec=dict(row.spec),
            status=status,
        )
        endpoint_controller.sync_after_write(tx, POD.kind, namespace, name)
        return written
