"""The four write operations of every kind, each one transaction with its preconditions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import ValidationError

from . import endpoint_controller, semantics
from .cluster_ips import ClusterIPAllocator, parse_service_cidrs
from .errors import already_exists, bad_request, invalid, not_found, precondition_failed
from .representation import spec_to_storage, stored_document, validate_spec, validation_problem
from .resources.common import API_VERSION, ObjectMetaIn, StrictModel, check_dns1123_label
from .resources.compat import KUBERNETES_API_VERSIONS, strip_ignored
from .resources.registry import ENDPOINTS, NAMESPACE, KindInfo
from .resources.service import ServiceSpec
from .store.models import StoredObject
from .store.store import IntentStore
from .store.transaction import Key, WriteTransaction

# Called inside the write transaction with the written row and the write's revision, to build
# the response: if that fails, the transaction is rolled back, so no write commits and then
# answers 5xx.
BeforeCommit = Callable[[StoredObject, int], None]


def _nothing(row: StoredObject, revision: int) -> None:
    pass


T = TypeVar("T")

# Set on every namespace, as Kubernetes does: namespaceSelectors can select by name.
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
# dryRun=All: called with the written (or deleted) row inside the transaction, which is then
# rolled back; it reads what the write would store (http/dry_run.py plans it).
DryRunHook = Callable[[WriteTransaction, KindInfo, StoredObject], None]


@dataclass(frozen=True)
class Checked:
    """A document validated against its kind, before any stored state is read."""

    metadata: ObjectMetaIn
    labels: dict[str, str]
    spec: StrictModel
    ignored: tuple[str, ...]


@dataclass(frozen=True)
class Preconditions:
    """If-Match (a resourceVersion or *) and If-None-Match: * from the request."""

    if_match: str | None = None
    if_none_match_any: bool = False


def _describe(info: KindInfo, namespace: str, name: str) -> str:
    return f"{info.kind} {namespace}/{name}" if info.namespaced else f"{info.kind} {name}"


def check_preconditions(
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
    """Every write: validation, cross-object rules, no-op detection, then one revision.

    `warnings`, when given, collects the fields that were accepted but ignored."""

    def __init__(
        self,
        store: IntentStore,
        node_port_range: tuple[int, int],
        cluster_ips: ClusterIPAllocator | None = None,
    ) -> None:
        self.store = store
        self.node_port_range = node_port_range
        self.cluster_ips = cluster_ips or ClusterIPAllocator(parse_service_cidrs("10.96.0.0/12"))

    def create(
        self,
        info: KindInfo,
        namespace: str,
        document: dict[str, Any],
        warnings: list[str] | None = None,
        before_commit: BeforeCommit = _nothing,
        dry_run: DryRunHook | None = None,
    ) -> StoredObject:
        """POST: the name comes from the document; 409 if it exists."""
        name = self._name_of(document)
        checked = self._check(info, namespace, name, document)  # outside the writer's batch

        def write(tx: WriteTransaction) -> StoredObject:
            if tx.exists(info.kind, namespace, name):
                raise already_exists(_describe(info, namespace, name))
            row = self._store(tx, info, namespace, name, checked, None, warnings)
            _done(tx, info, row, dry_run)
            before_commit(row, row.resource_version)
            return row

        return self._execute(write, dry_run, self._keys(info, namespace, name))

    def replace(
        self,
        info: KindInfo,
        namespace: str,
        name: str,
        document: dict[str, Any],
        pre: Preconditions,
        warnings: list[str] | None = None,
        before_commit: BeforeCommit = _nothing,
        dry_run: DryRunHook | None = None,
    ) -> tuple[StoredObject, bool]:
        """PUT: create or replace; returns (row, created)."""
        checked = self._check(info, namespace, name, document)  # outside the writer's batch

        def write(tx: WriteTransaction) -> tuple[StoredObject, bool]:
            row = tx.get(info.kind, namespace, name)
            check_preconditions(info, namespace, name, row, pre)
            self._check_body_version(info, namespace, name, row, document)
            created = row is None
            row = self._store(tx, info, namespace, name, checked, row, warnings)
            _done(tx, info, row, dry_run)
            before_commit(row, row.resource_version)
            return row, created

        return self._execute(write, dry_run, self._keys(info, namespace, name))

    def patch(
        self,
        info: KindInfo,
        namespace: str,
        name: str,
        patch: dict[str, Any],
        pre: Preconditions,
        warnings: list[str] | None = None,
        before_commit: BeforeCommit = _nothing,
        dry_run: DryRunHook | None = None,
    ) -> StoredObject:
        """PATCH: RFC 7396 merge patch onto the stored document."""

        def write(tx: WriteTransaction) -> StoredObject:
            row = tx.get(info.kind, namespace, name)
            if row is None:
                raise not_found(_describe(info, namespace, name))
            check_preconditions(info, namespace, name, row, pre)
            self._check_body_version(info, namespace, name, row, patch)
            merged = merge_patch(stored_document(info, row), patch)
            if not isinstance(merged, dict):
                raise bad_request("a merge patch of an object must be a JSON object")
            checked = self._check(info, namespace, name, merged)
            row = self._store(tx, info, namespace, name, checked, row, warnings)
            _done(tx, info, row, dry_run)
            before_commit(row, row.resource_version)
            return row

        return self._execute(write, dry_run, self._keys(info, namespace, name))

    def delete(
        self,
        info: KindInfo,
        namespace: str,
        name: str,
        pre: Preconditions,
        before_commit: BeforeCommit = _nothing,
        dry_run: DryRunHook | None = None,
    ) -> tuple[StoredObject, int]:
        """DELETE; returns the deleted row and the revision of the deletion."""

        def write(tx: WriteTransaction) -> tuple[StoredObject, int]:
            row = tx.get(info.kind, namespace, name)
            if row is None:
                raise not_found(_describe(info, namespace, name))
            check_preconditions(info, namespace, name, row, pre)
            if info is ENDPOINTS:
                endpoint_controller.refuse_manual_write(tx, namespace, name)
            semantics.cascade_delete(tx, row)
            revision = tx.delete(row)
            endpoint_controller.sync_after_write(tx, info.kind, namespace, name)
            _done(tx, info, row, dry_run)
            before_commit(row, revision)
            return row, revision

        return self._execute(write, dry_run, self._keys(info, namespace, name))

    def bulk_put(self, items: list[tuple[KindInfo, str, dict[str, Any]]]) -> int:
        """Create or replace many objects in ONE transaction (all or nothing), e.g. to import
        a backup or seed a large cluster; the same rules as PUT. Returns the last revision."""
        with self.store.write() as tx:
            revision = 0
            for info, namespace, document in items:
                tx.begin_write()  # each object is a write of its own, with its own revision
                name = self._name_of(document)
                checked = self._check(info, namespace, name, document)
                row = self._store(
                    tx, info, namespace, name, checked, tx.get(info.kind, namespace, name)
                )
                revision = row.resource_version
            return revision

    # -- helpers --------------------------------------------------------------------------
    @staticmethod
    def _keys(info: KindInfo, namespace: str, name: str) -> list[Key]:
        """What a write of this object reads first: the object and its namespace."""
        keys: list[Key] = [(info.kind, namespace, name)]
        if info.namespaced:
            keys.append((NAMESPACE.kind, "", namespace))
        return keys

    def _execute(
        self, write: Callable[[WriteTransaction], T], dry_run: DryRunHook | None, keys: list[Key]
    ) -> T:
        """A real write joins the next group commit; a dry run gets a transaction of its own
        that is rolled back (it takes no revision)."""
        if dry_run is None:
            return self.store.run(write, keys)
        with self.store.write(dry_run=True) as tx:
            tx.begin_write()
            return write(tx)

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
        check_preconditions(info, namespace, name, row, Preconditions(if_match=str(wanted)))

    def _check(
        self, info: KindInfo, namespace: str, name: str, document: dict[str, Any]
    ) -> Checked:
        """Everything about a document that needs no stored state (pure): done before the
        write joins the writer's batch, so that the serialized part stays short."""
        ignored: list[str] = []
        metadata = self._metadata(info, namespace, name, document, ignored)
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
        if document.get("status"):
            ignored.append("status")
        spec = validate_spec(info, raw_spec)
        ignored.extend(strip_ignored(spec, "" if info.flat else "spec"))
        labels = dict(metadata.labels)
        if info is NAMESPACE:
            # As Kubernetes does: namespaceSelectors can always select a namespace by name.
            labels[NAMESPACE_NAME_LABEL] = name
        return Checked(metadata, labels, spec, tuple(ignored))

    def _store(
        self,
        tx: WriteTransaction,
        info: KindInfo,
        namespace: str,
        name: str,
        checked: Checked,
        row: StoredObject | None,
        warnings: list[str] | None = None,
    ) -> StoredObject:
        if info is ENDPOINTS:
            semantics.require_service(tx, namespace, name)
            endpoint_controller.refuse_manual_write(tx, namespace, name)
        # A copy: allocation fills fields in place, and a write may run twice (group commit).
        spec = checked.spec.model_copy(deep=True)
        semantics.check_references(tx, info, namespace, spec)
        previous = row.spec if row is not None else None
        if isinstance(spec, ServiceSpec):
            semantics.allocate_node_ports(tx, spec, previous, self.node_port_range)
            self.cluster_ips.assign(tx, (namespace, name), spec, previous)
        if warnings is not None:
            warnings.extend(f for f in checked.ignored if f not in warnings)
        annotations = checked.metadata.annotations
        stored = spec_to_storage(spec)
        if row is not None and (row.spec, row.labels, row.annotations) == (
            stored,
            checked.labels,
            annotations,
        ):
            return row  # a no-op: no revision, no change-log row, nothing for any agent
        semantics.take_claims(tx, info, namespace, name, spec)
        written = tx.put(
            info.kind, namespace, name, labels=checked.labels, annotations=annotations, spec=stored
        )
        endpoint_controller.sync_after_write(tx, info.kind, namespace, name)
        return written

    @staticmethod
    def _metadata(
        info: KindInfo,
        namespace: str,
        name: str,
        document: dict[str, Any],
        ignored: list[str],
    ) -> ObjectMetaIn:
        try:
            metadata = ObjectMetaIn.model_validate(document.get("metadata") or {})
        except ValidationError as exc:
            raise validation_problem(exc, ("metadata",)) from None
        if info is ENDPOINTS and metadata.name not in (None, name):
            # Kubernetes names slices after their Service plus a suffix; here the endpoints of
            # a Service are one object addressed by the Service's name.
            ignored.append("metadata.name")
        elif metadata.name is not None and metadata.name != name:
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
        accepted = [API_VERSION]
        if info.kind in KUBERNETES_API_VERSIONS:
            accepted.append(KUBERNETES_API_VERSIONS[info.kind])
        if document.get("apiVersion") not in (None, *accepted):
            raise invalid("apiVersion", f"must be {' or '.join(accepted)}")
        if document.get("kind") not in (None, info.kind):
            raise invalid("kind", f"must be {info.kind}")


def _done(
    tx: WriteTransaction, info: KindInfo, row: StoredObject, dry_run: DryRunHook | None
) -> StoredObject:
    if dry_run is not None:
        dry_run(tx, info, row)
    return row


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
