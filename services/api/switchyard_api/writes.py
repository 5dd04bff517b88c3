"""The four write operations of every kind, each one transaction with its preconditions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from . import semantics
from .errors import already_exists, bad_request, invalid, not_found, precondition_failed
from .representation import spec_to_storage, stored_document, validate_spec, validation_problem
from .resources.common import API_VERSION, ObjectMetaIn, check_dns1123_label
from .resources.registry import ENDPOINTS, NAMESPACE, KindInfo
from .resources.service import ServiceSpec
from .store.models import StoredObject
from .store.store import IntentStore
from .store.transaction import WriteTransaction

# Set on every namespace, as Kubernetes does: namespaceSelectors can select by name.
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
# dryRun=All: called with the written (or deleted) row inside the transaction, which is then
# rolled back; it reads what the write would store and plans it (http/dry_run.py).
DryRunHook = Callable[[WriteTransaction, KindInfo, StoredObject], None]


@dataclass(frozen=True)
class Preconditions:
    """If-Match (a resourceVersion or *) and If-None-Match: * from the request."""

    if_match: str | None = None
    if_none_match_any: bool = False


def _describe(info: KindInfo, namespace: str, name: str) -> str:
    return f"{info.kind} {namespace}/{name}" if info.namespaced else f"{info.kind} {name}"


def _check_preconditions(
    info: KindInfo, namespace: str, name: str, row: StoredObject | None, pre: Preconditions
) -> None:
    what = _describe(info, namespace, name)
    if pre.if_none_match_any and row is not None:
        raise precondition_failed(f"{what} exists (If-None-Match: *)")
    if pre.if_match is None:
        return
    if row is None:
        raise precondition_failed(f"{what} does not exist (If-Match: {pre.if_match})")
    if pre.if_match != "*" and pre.if_match != str(row.resource_version):
        raise precondition_failed(
            f"{what} is at resourceVersion {row.resource_version}, not {pre.if_match}"
        )


class IntentWriter:
    def __init__(self, store: IntentStore, node_port_range: tuple[int, int]) -> None:
        self.store = store
        self.node_port_range = node_port_range

    @staticmethod
    def _done(
        tx: WriteTransaction, info: KindInfo, row: StoredObject, dry_run: DryRunHook | None
    ) -> StoredObject:
        if dry_run is not None:
            dry_run(tx, info, row)
        return row

    def create(
        self,
        info: KindInfo,
        namespace: str,
        document: dict[str, Any],
        dry_run: DryRunHook | None = None,
    ) -> StoredObject:
        """POST: the name comes from the document; 409 if it exists."""
        name = self._name_of(document)
        with self.store.write(dry_run=dry_run is not None) as tx:
            if tx.exists(info.kind, namespace, name):
                raise already_exists(_describe(info, namespace, name))
            row = self._store(tx, info, namespace, name, document, None)
            return self._done(tx, info, row, dry_run)

    def replace(
        self,
        info: KindInfo,
        namespace: str,
        name: str,
        document: dict[str, Any],
        pre: Preconditions,
        dry_run: DryRunHook | None = None,
    ) -> tuple[StoredObject, bool]:
        """PUT: create or replace; returns (row, created)."""
        with self.store.write(dry_run=dry_run is not None) as tx:
            row = tx.get(info.kind, namespace, name)
            _check_preconditions(info, namespace, name, row, pre)
            self._check_body_version(info, namespace, name, row, document)
            created = row is None
            stored = self._store(tx, info, namespace, name, document, row)
            return self._done(tx, info, stored, dry_run), created

    def patch(
        self,
        info: KindInfo,
        namespace: str,
        name: str,
        patch: dict[str, Any],
        pre: Preconditions,
        dry_run: DryRunHook | None = None,
    ) -> StoredObject:
        """PATCH: RFC 7396 merge patch onto the stored document."""
        with self.store.write(dry_run=dry_run is not None) as tx:
            row = tx.get(info.kind, namespace, name)
            if row is None:
                raise not_found(_describe(info, namespace, name))
            _check_preconditions(info, namespace, name, row, pre)
            self._check_body_version(info, namespace, name, row, patch)
            merged = merge_patch(stored_document(info, row), patch)
            if not isinstance(merged, dict):
                raise bad_request("a merge patch of an object must be a JSON object")
            stored = self._store(tx, info, namespace, name, merged, row)
            return self._done(tx, info, stored, dry_run)

    def delete(
        self,
        info: KindInfo,
        namespace: str,
        name: str,
        pre: Preconditions,
        dry_run: DryRunHook | None = None,
    ) -> tuple[StoredObject, int]:
        """DELETE; returns the deleted row and the revision of the deletion."""
        with self.store.write(dry_run=dry_run is not None) as tx:
            row = tx.get(info.kind, namespace, name)
            if row is None:
                raise not_found(_describe(info, namespace, name))
            _check_preconditions(info, namespace, name, row, pre)
            semantics.cascade_delete(tx, row)
            revision = tx.delete(row)
            return self._done(tx, info, row, dry_run), revision

    def bulk_put(self, items: list[tuple[KindInfo, str, dict[str, Any]]]) -> int:
        """Create or replace many objects in ONE transaction (all or nothing), e.g. to import
        a backup or seed a large cluster; the same rules as PUT. Returns the last revision."""
        with self.store.write() as tx:
            revision = 0
            for info, namespace, document in items:
                name = self._name_of(document)
                row = self._store(
                    tx, info, namespace, name, document, tx.get(info.kind, namespace, name)
                )
                revision = row.resource_version
            return revision

    # -- helpers --------------------------------------------------------------------------
    @staticmethod
    def _name_of(document: dict[str, Any]) -> str:
        metadata = document.get("metadata")
        name = metadata.get("name") if isinstance(metadata, dict) else None
        if not name:
            raise invalid("metadata.name", "required")
        return str(name)

    @staticmethod
    def _check_body_version(
        info: KindInfo,
        namespace: str,
        name: str,
        row: StoredObject | None,
        document: dict[str, Any],
    ) -> None:
        """A resourceVersion in the body is a precondition, as in Kubernetes."""
        metadata = document.get("metadata")
        wanted = metadata.get("resourceVersion") if isinstance(metadata, dict) else None
        if wanted in (None, ""):
            return
        _check_preconditions(info, namespace, name, row, Preconditions(if_match=str(wanted)))

    def _store(
        self,
        tx: WriteTransaction,
        info: KindInfo,
        namespace: str,
        name: str,
        document: dict[str, Any],
        row: StoredObject | None,
    ) -> StoredObject:
        metadata = self._metadata(info, namespace, name, document)
        self._check_type_fields(info, document)
        raw_spec = (
            {
                k: v
                for k, v in document.items()
                if k not in ("apiVersion", "kind", "metadata", "status")
            }
            if info.flat
            else document.get("spec", {})
        )
        # A status in the body is owned by the server: accepted and ignored.
        spec = validate_spec(info, raw_spec)
        if info is ENDPOINTS:
            semantics.require_service(tx, namespace, name)
        semantics.check_references(tx, info, namespace, spec)
        if isinstance(spec, ServiceSpec):
            semantics.allocate_node_ports(
                tx, spec, row.spec if row is not None else None, self.node_port_range
            )
        semantics.take_claims(tx, info, namespace, name, spec)
        labels = dict(metadata.labels)
        if info is NAMESPACE:
            # As Kubernetes does: namespaceSelectors can always select a namespace by name.
            labels[NAMESPACE_NAME_LABEL] = name
        return tx.put(
            info.kind,
            namespace,
            name,
            labels=labels,
            annotations=metadata.annotations,
            spec=spec_to_storage(spec),
        )

    @staticmethod
    def _metadata(
        info: KindInfo, namespace: str, name: str, document: dict[str, Any]
    ) -> ObjectMetaIn:
        try:
            metadata = ObjectMetaIn.model_validate(document.get("metadata") or {})
        except ValidationError as exc:
            raise validation_problem(exc, ("metadata",)) from None
        if metadata.name is not None and metadata.name != name:
            raise invalid("metadata.name", f"{metadata.name!r} does not match the path's {name!r}")
        if info.namespaced and metadata.namespace not in (None, namespace):
            raise invalid(
                "metadata.namespace",
                f"{metadata.namespace!r} does not match the path's {namespace!r}",
            )
        if not info.namespaced and metadata.namespace:
            raise invalid("metadata.namespace", f"{info.kind} is not namespaced")
        try:
            check_dns1123_label(name)
        except ValueError as exc:
            raise invalid("metadata.name", str(exc)) from None
        return metadata

    @staticmethod
    def _check_type_fields(info: KindInfo, document: dict[str, Any]) -> None:
        if document.get("apiVersion") not in (None, API_VERSION):
            raise invalid("apiVersion", f"must be {API_VERSION}")
        if document.get("kind") not in (None, info.kind):
            raise invalid("kind", f"must be {info.kind}")


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON Merge Patch."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result
