"""The intent store: read queries and the write-transaction entry point."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy import Engine, delete, func, select, text, tuple_
from sqlalchemy.orm import Session, sessionmaker

from .db import is_postgres
from .group_commit import GroupCommitter
from .models import ChangeLogEntry, RevisionCounter, StoredObject, StoreMeta
from .transaction import Change, Key, WriteTransaction

T = TypeVar("T")
log = logging.getLogger("switchyard.store")

COMPACTED_KEY = "compacted_revision"
# Compact the change log every this many revisions (cheap: one indexed delete).
COMPACT_EVERY = 256


class IntentStore:
    def __init__(self, engine: Engine, *, event_retention: int = 100_000) -> None:
        self.engine = engine
        self.event_retention = event_retention
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        # Called after every commit with the revisions written (wakes in-process listeners).
        self.on_commit: list[Callable[[list[Change]], None]] = []
        self._group = GroupCommitter(self._sessions, self._after_commit)

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._sessions() as session:
            yield session

    @contextmanager
    def write(self, *, dry_run: bool = False) -> Iterator[WriteTransaction]:
        """One transaction of its own (imports, maintenance, dry runs); request writes go
        through `run`, which batches them. With dry_run every check runs and everything is
        rolled back: no revision is taken, nothing is stored or notified."""
        if dry_run:
            with self._sessions() as session:
                try:
                    yield WriteTransaction(session, dry_run=True)
                finally:
                    session.rollback()
            return
        with self._sessions() as session, session.begin():
            tx = WriteTransaction(session)
            yield tx
            tx.finish()
        if tx.changes:
            self._after_commit(tx.changes)

    def run(self, body: Callable[[WriteTransaction], T], keys: Iterable[Key] = ()) -> T:
        """Run one write in the next group commit; its result once that has committed.
        `keys`: objects the write reads (read for the whole batch in one query)."""
        return self._group.run(body, keys)

    def close(self) -> None:
        self._group.close()

    def _after_commit(self, changes: list[Change]) -> None:
        """Housekeeping after a commit must not turn a committed write into an error answer:
        a failure here is logged and retried at the next compaction point, or covered by the
        readers' polling (wake-ups)."""
        first, last = changes[0].revision, changes[-1].revision
        try:
            if last // COMPACT_EVERY != (first - 1) // COMPACT_EVERY:
                self.compact()
        except Exception:
            log.exception("change-log compaction after revision %d failed", last)
        for callback in self.on_commit:
            try:
                callback(changes)
            except Exception:
                log.exception("after-commit callback failed at revision %d", last)

    def current_revision(self) -> int:
        with self.read() as session:
            if is_postgres(self.engine):
                # last_value is 1 with is_called false before the first nextval.
                row = session.execute(text("SELECT last_value, is_called FROM revision_seq")).one()
                return int(row[0]) if row[1] else 0
            return int(session.scalar(select(RevisionCounter.value)) or 0)

    def get(self, kind: str, namespace: str, name: str) -> StoredObject | None:
        with self.read() as session:
            return session.get(StoredObject, (kind, namespace, name))

    def get_many(
        self, keys: list[tuple[str, str, str]]
    ) -> dict[tuple[str, str, str], StoredObject]:
        """Current rows for (kind, namespace, name) keys; absent keys are left out."""
        found: dict[tuple[str, str, str], StoredObject] = {}
        with self.read() as session:
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                query = select(StoredObject).where(
                    tuple_(StoredObject.kind, StoredObject.namespace, StoredObject.name).in_(chunk)
                )
                for row in session.scalars(query):
                    found[(row.kind, row.namespace, row.name)] = row
        return found

    def list_page(
        self,
        kind: str,
        namespace: str | None,
        after: tuple[str, str] | None,
        batch: int,
    ) -> list[StoredObject]:
        """Objects of a kind in (namespace, name) order after a cursor."""
        query = select(StoredObject).where(StoredObject.kind == kind)
        if namespace is not None:
            query = query.where(StoredObject.namespace == namespace)
        if after is not None:
            query = query.where(tuple_(StoredObject.namespace, StoredObject.name) > tuple_(*after))
        query = query.order_by(StoredObject.namespace, StoredObject.name).limit(batch)
        with self.read() as session:
            return list(session.scalars(query))

    def list_all(self, kind: str) -> list[StoredObject]:
        """Every object of a kind, in (namespace, name) order."""
        query = select(StoredObject).where(StoredObject.kind == kind)
        query = query.order_by(StoredObject.namespace, StoredObject.name)
        with self.read() as session:
            return list(session.scalars(query))

    def all_objects(self) -> list[StoredObject]:
        with self.read() as session:
            return list(session.scalars(select(StoredObject)))

    def changes_after(self, revision: int, limit: int = 1000) -> list[ChangeLogEntry]:
        """Change-log rows after a revision, about `limit` of them, never cutting a revision
        in two: a reader that resumes after the last revision returned misses nothing."""
        order = (
            ChangeLogEntry.revision,
            ChangeLogEntry.kind,
            ChangeLogEntry.namespace,
            ChangeLogEntry.name,
        )
        query = select(ChangeLogEntry).where(ChangeLogEntry.revision > revision)
        with self.read() as session:
            rows = list(session.scalars(query.order_by(*order).limit(limit)))
            if len(rows) < limit:
                return rows
            last = rows[-1].revision
            rest = select(ChangeLogEntry).where(ChangeLogEntry.revision == last)
            whole = list(session.scalars(rest.order_by(*order)))
            return [row for row in rows if row.revision < last] + whole

    def compacted_revision(self) -> int:
        """Changes up to and including this revision are no longer in the log."""
        with self.read() as session:
            value = session.get(StoreMeta, COMPACTED_KEY)
            return int(value.value) if value else 0

    def compact(self, retain: int | None = None) -> int:
        """Drop change-log rows older than the retention window; returns the new floor."""
        retain = self.event_retention if retain is None else retain
        with self._sessions() as session, session.begin():
            newest = session.scalar(select(func.max(ChangeLogEntry.revision))) or 0
            floor = max(0, newest - retain)
            meta = session.get(StoreMeta, COMPACTED_KEY)
            if meta is not None and int(meta.value) >= floor:
                return int(meta.value)
            session.execute(delete(ChangeLogEntry).where(ChangeLogEntry.revision <= floor))
            if meta is None:
                session.add(StoreMeta(key=COMPACTED_KEY, value=str(floor)))
            else:
                meta.value = str(floor)
            return floor
