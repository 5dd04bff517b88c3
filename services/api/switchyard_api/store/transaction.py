"""One write transaction: the global writer lock, revisions, object rows, change log, claims.

Every object one write changes shares one revision (a write and the selector endpoints it
changed are one change; see begin_write). Writers are serialized (a transaction-scoped
advisory lock on PostgreSQL, BEGIN IMMEDIATE on SQLite) so that commit order equals revision
order: a reader of the change log that has seen revision N can never later find a smaller
revision appear.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select, text, update
from sqlalchemy.orm import Session

from .models import ChangeLogEntry, Claim, RevisionCounter, StoredObject

WRITER_LOCK_KEY = 0x53_57_59_44  # "SWYD"
NOTIFY_CHANNEL = "switchyard_changes"
# The payload on NOTIFY_CHANNEL when a token was deleted (others are revisions).
REVOKED_PAYLOAD = "token-revoked"


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Change:
    revision: int
    operation: str
    kind: str
    namespace: str
    name: str


class WriteTransaction:
    def __init__(self, session: Session, *, dry_run: bool = False) -> None:
        self.session = session
        self.is_postgres = session.get_bind().dialect.name == "postgresql"
        self.changes: list[Change] = []
        self.dry_run = dry_run
        self._revision: int | None = None
        self._entries: dict[tuple[str, str, str], ChangeLogEntry] = {}
        if self.is_postgres:
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITER_LOCK_KEY})

    def next_revision(self) -> int:
        if self.dry_run:  # a sequence value is never given back: do not take one
            return self.committed_revision() + 1
        if self.is_postgres:
            return int(self.session.execute(text("SELECT nextval('revision_seq')")).scalar_one())
        value = self.session.execute(
            update(RevisionCounter)
            .where(RevisionCounter.id == 1)
            .values(value=RevisionCounter.value + 1)
            .returning(RevisionCounter.value)
        ).scalar_one()
        return int(value)

    def committed_revision(self) -> int:
        """The last revision handed out (under the writer lock: nobody else takes one)."""
        if self.is_postgres:
            row = self.session.execute(text("SELECT last_value, is_called FROM revision_seq")).one()
            return int(row[0]) if row[1] else 0
        return int(self.session.scalar(select(RevisionCounter.value)) or 0)

    def get(self, kind: str, namespace: str, name: str) -> StoredObject | None:
        return self.session.get(StoredObject, (kind, namespace, name))

    def exists(self, kind: str, namespace: str, name: str) -> bool:
        return self.get(kind, namespace, name) is not None

    def begin_write(self) -> None:
        """Start one user write: the objects it changes from here on share a new revision.
        A transaction may carry several writes (group commit), each with its own revision."""
        self._revision = None
        self._entries = {}

    @property
    def revision(self) -> int:
        """This write's revision, taken from the sequence on first use."""
        if self._revision is None:
            self._revision = self.next_revision()
        return self._revision

    def _log(self, operation: str, kind: str, namespace: str, name: str) -> int:
        revision = self.revision
        key = (kind, namespace, name)
        entry = self._entries.get(key)
        if entry is not None:  # the same object twice in one write: one row, net operation
            if not (entry.operation == "ADDED" and operation == "MODIFIED"):
                entry.operation = operation
            self.changes = [c for c in self.changes if (c.kind, c.namespace, c.name) != key]
            self.changes.append(Change(revision, entry.operation, kind, namespace, name))
            return revision
        entry = ChangeLogEntry(
            revision=revision,
            kind=kind,
            namespace=namespace,
            name=name,
            operation=operation,
            committed_at=utc_now(),
        )
        self._entries[key] = entry
        self.session.add(entry)
        self.changes.append(Change(revision, operation, kind, namespace, name))
        return revision

    def put(
        self,
        kind: str,
        namespace: str,
        name: str,
        *,
        labels: dict[str, str],
        annotations: dict[str, str],
        spec: dict[str, Any],
        status: dict[str, Any] | None = None,
    ) -> StoredObject:
        """Create or replace; the object's resource_version becomes the new revision."""
        row = self.get(kind, namespace, name)
        operation = "MODIFIED" if row is not None else "ADDED"
        revision = self._log(operation, kind, namespace, name)
        if row is None:
            row = StoredObject(
                kind=kind,
                namespace=namespace,
                name=name,
                uid=str(uuid.uuid4()),
                created_at=utc_now(),
                status=status,
            )
            self.session.add(row)
        elif status is not None:
            row.status = status
        row.resource_version = revision
        row.labels = labels
        row.annotations = annotations
        row.spec = spec
        self.session.flush()
        return row

    def delete(self, row: StoredObject) -> int:
        revision = self._log("DELETED", row.kind, row.namespace, row.name)
        self.release_claims(row.kind, row.namespace, row.name)
        self.session.delete(row)
        self.session.flush()
        return revision

    def rows_in_namespace(self, namespace: str) -> list[StoredObject]:
        query = select(StoredObject).where(StoredObject.namespace == namespace)
        return list(self.session.scalars(query.order_by(StoredObject.kind, StoredObject.name)))

    def rows_of_kind(self, kind: str, namespace: str) -> list[StoredObject]:
        query = select(StoredObject).where(
            StoredObject.kind == kind, StoredObject.namespace == namespace
        )
        return list(self.session.scalars(query.order_by(StoredObject.name)))

    # Claims: uniqueness across objects.
    def claim_owners(self, claims: Iterable[str]) -> dict[str, Claim]:
        wanted = list(claims)
        if not wanted:
            return {}
        rows = self.session.scalars(select(Claim).where(Claim.claim.in_(wanted)))
        return {row.claim: row for row in rows}

    def claims_with_prefix(self, prefix: str) -> list[str]:
        rows = self.session.scalars(select(Claim.claim).where(Claim.claim.startswith(prefix)))
        return list(rows)

    def release_claims(self, kind: str, namespace: str, name: str) -> None:
        self.session.execute(
            delete(Claim).where(
                Claim.kind == kind, Claim.namespace == namespace, Claim.name == name
            )
        )

    def set_claims(self, kind: str, namespace: str, name: str, claims: Iterable[str]) -> None:
        self.release_claims(kind, namespace, name)
        for claim in sorted(set(claims)):
            self.session.add(Claim(claim=claim, kind=kind, namespace=namespace, name=name))

    def notify(self) -> None:
        """PostgreSQL delivers the notification to listeners at commit."""
        if self.is_postgres and self.changes:
            self.session.execute(
                text("SELECT pg_notify(:channel, :payload)"),
                {"channel": NOTIFY_CHANNEL, "payload": str(self.changes[-1].revision)},
            )
