"""One write transaction: the global writer lock, revisions, object rows, change log, claims.

Every object one write changes shares one revision (a write and the selector endpoints it
changed are one change; see begin_write). Writers are serialized (a transaction-scoped
advisory lock on PostgreSQL, BEGIN IMMEDIATE on SQLite) so that commit order equals revision
order: a reader of the change log that has seen revision N can never later find a smaller
revision appear.

Because the lock is held from the first statement to the commit, nobody else changes the
store meanwhile, so the transaction keeps what it read and wrote in memory (`_rows`,
`_kind_lists`) instead of asking the database again, hands out revisions itself (read once,
written back once in `finish`), and leaves its inserts to one flush at commit: a group commit
of many writes costs a few round trips, not a dozen per write (docs/write-path.md).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select, text, tuple_, update
from sqlalchemy.orm import Session

from .models import ChangeLogEntry, Claim, RevisionCounter, StoredObject

Key = tuple[str, str, str]

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
        self._last_revision: int | None = None  # the last revision handed out, once read
        # What this transaction knows of the store (valid while it holds the writer lock).
        self._rows: dict[Key, StoredObject | None] = {}
        self._kind_lists: dict[tuple[str, str], dict[str, StoredObject]] = {}
        self._absent_before: set[Key] = set()  # not in the store when the transaction began
        self._written: set[Key] = set()  # put or deleted by this transaction
        self.mutated = False  # the current write has changed something (see begin_write)
        if self.is_postgres:
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITER_LOCK_KEY})

    def next_revision(self) -> int:
        """The next revision: under the writer lock nobody else takes one, so the counter is
        read once and written back once (finish); a dry run never writes it back."""
        if self._last_revision is None:
            self._last_revision = self.committed_revision()
        self._last_revision += 1
        return self._last_revision

    def finish(self) -> None:
        """Before the commit: store the revision counter and notify other replicas."""
        if self._last_revision is not None and not self.dry_run:
            if self.is_postgres:
                self.session.execute(
                    text("SELECT setval('revision_seq', :value)"), {"value": self._last_revision}
                )
            else:
                self.session.execute(
                    update(RevisionCounter)
                    .where(RevisionCounter.id == 1)
                    .values(value=self._last_revision)
                )
        self.notify()

    def committed_revision(self) -> int:
        """The last revision handed out (under the writer lock: nobody else takes one)."""
        if self.is_postgres:
            row = self.session.execute(text("SELECT last_value, is_called FROM revision_seq")).one()
            return int(row[0]) if row[1] else 0
        return int(self.session.scalar(select(RevisionCounter.value)) or 0)

    def get(self, kind: str, namespace: str, name: str) -> StoredObject | None:
        key = (kind, namespace, name)
        if key in self._rows:
            return self._rows[key]
        # Rows this transaction wrote are all in _rows: no need to flush them first (the flush
        # at commit then inserts the whole batch at once).
        with self.session.no_autoflush:
            row = self.session.get(StoredObject, key)
        self._loaded(key, row)
        return row

    def _loaded(self, key: Key, row: StoredObject | None) -> None:
        """What the store holds at `key`, read once for the rest of the transaction."""
        self._rows[key] = row
        if row is None:
            self._absent_before.add(key)

    def prefetch(self, keys: Iterable[Key]) -> None:
        """Read the rows of many keys in one query (a group commit's writes name theirs)."""
        wanted = [key for key in dict.fromkeys(keys) if key not in self._rows]
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            query = select(StoredObject).where(
                tuple_(StoredObject.kind, StoredObject.namespace, StoredObject.name).in_(chunk)
            )
            with self.session.no_autoflush:
                found = {(r.kind, r.namespace, r.name): r for r in self.session.scalars(query)}
            for key in chunk:
                self._loaded(key, found.get(key))

    def exists(self, kind: str, namespace: str, name: str) -> bool:
        return self.get(kind, namespace, name) is not None

    def begin_write(self) -> None:
        """Start one user write: the objects it changes from here on share a new revision.
        A transaction may carry several writes (group commit), each with its own revision.
        `mutated` tells afterwards whether the write changed anything: a write that fails
        before it did needs no rollback."""
        self._revision = None
        self._entries = {}
        self.mutated = False

    @property
    def revision(self) -> int:
        """This write's revision, taken from the sequence on first use."""
        if self._revision is None:
            self._revision = self.next_revision()
        return self._revision

    def _log(self, operation: str, kind: str, namespace: str, name: str) -> int:
        self.mutated = True
        revision = self.revision
        key = (kind, namespace, name)
        self._written.add(key)
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
        self._remember(kind, namespace, name, row)
        return row  # inserted or updated by the flush at commit (or before the next query)

    def delete(self, row: StoredObject) -> int:
        revision = self._log("DELETED", row.kind, row.namespace, row.name)
        self.release_claims(row.kind, row.namespace, row.name)
        self.session.delete(row)
        self.session.flush()
        self._remember(row.kind, row.namespace, row.name, None)
        return revision

    def _remember(self, kind: str, namespace: str, name: str, row: StoredObject | None) -> None:
        """What this transaction wrote at a key (None: deleted), for its later reads."""
        self._rows[(kind, namespace, name)] = row
        listed = self._kind_lists.get((kind, namespace))
        if listed is not None:
            if row is None:
                listed.pop(name, None)
            else:
                listed[name] = row

    def rows_in_namespace(self, namespace: str) -> list[StoredObject]:
        query = select(StoredObject).where(StoredObject.namespace == namespace)
        return list(self.session.scalars(query.order_by(StoredObject.kind, StoredObject.name)))

    def rows_of_kind(self, kind: str, namespace: str) -> list[StoredObject]:
        """Objects of a kind in a namespace, by name; read once per transaction."""
        listed = self._kind_lists.get((kind, namespace))
        if listed is None:
            query = select(StoredObject).where(
                StoredObject.kind == kind, StoredObject.namespace == namespace
            )
            with self.session.no_autoflush:  # what this transaction wrote is merged below
                listed = {row.name: row for row in self.session.scalars(query)}
            for row in listed.values():
                self._rows.setdefault((row.kind, row.namespace, row.name), row)
            for (k, ns, name), known in self._rows.items():
                if (k, ns) == (kind, namespace):
                    if known is None:
                        listed.pop(name, None)
                    else:
                        listed[name] = known
            self._kind_lists[(kind, namespace)] = listed
        return [listed[name] for name in sorted(listed)]

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
        self.mutated = True
        key = (kind, namespace, name)
        if key in self._absent_before and key not in self._written:
            return  # a new object of this transaction that has not claimed anything yet
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
