"""Group commit: concurrent writes of one replica share one transaction, one writer-lock hold
and one commit, as etcd batches proposals.

Why (docs/write-path.md has the argument in full): commit order must equal revision order, so
writers are serialized by one lock across replicas. Serializing whole requests made every
request pay a lock wait plus a commit (a WAL flush) of its own. Here a single writer thread
per replica takes whatever writes are queued (up to `max_batch`), runs each one in its own
write after the other inside one transaction that holds the lock, and commits once:

* order: revisions are taken inside the transaction while it holds the lock, and the lock is
  held until the commit, so every revision of a batch is below every revision of any later
  batch (of this or any replica), and a batch becomes visible all at once;
* isolation: a write that fails (422, 409, 412 …) before it changed anything is simply left
  out; one that fails half-way makes the batch roll back and run again without it (rare:
  most failures are found before the first change), so its revisions are never committed
  and the other writes of the batch go on. No SAVEPOINT per write: each costs two round trips
  and a flush, and the flush at commit can then insert the rows of the whole batch at once;
* atomicity: a write's effects and its response are computed inside the transaction, before the
  commit; its caller gets the result only after the commit succeeded, and every caller of a
  batch whose commit failed gets that error (nothing of it is stored).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from .transaction import Change, Key, WriteTransaction

log = logging.getLogger(__name__)

T = TypeVar("T")
Body = Callable[[WriteTransaction], Any]


@dataclass
class _Pending:
    body: Body
    future: Future[Any]
    keys: tuple[Key, ...]  # the objects the write will read first: fetched for the batch at once


class GroupCommitter:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        on_commit: Callable[[list[Change]], None],
        *,
        max_batch: int = 128,
    ) -> None:
        self._sessions = sessions
        self._on_commit = on_commit
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.batches = 0  # transactions committed (for tests and metrics)
        self.reruns = 0  # batches run again after a write failed half-way

    def run(self, body: Callable[[WriteTransaction], T], keys: Iterable[Key] = ()) -> T:
        """Run body in the next batch; returns its result once the batch has committed."""
        future: Future[T] = Future()
        self._ensure_thread()
        self._queue.put(_Pending(body, future, tuple(keys)))
        return future.result()

    def close(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=10)
            self._thread = None

    def _ensure_thread(self) -> None:
        if self._thread is not None:
            return
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name="switchyard-group-commit", daemon=True
                )
                self._thread.start()

    def _loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._queue.put(None)  # stop after this batch
                    break
                batch.append(item)
            self._commit(batch)

    def _commit(self, batch: list[_Pending]) -> None:
        live = [pending for pending in batch if pending.future.set_running_or_notify_cancel()]
        while live:
            again = self._attempt(live)
            if again is None:
                return
            live = again

    def _attempt(self, batch: list[_Pending]) -> list[_Pending] | None:
        """One transaction for the batch. Returns the writes to run again when one of them
        failed after it had changed something (the transaction is rolled back: without a
        savepoint per write, that is the only way to undo it), else None."""
        done: list[tuple[_Pending, Any]] = []
        try:
            with self._sessions() as session, session.begin():
                tx = WriteTransaction(session)  # takes the writer lock
                tx.prefetch(key for pending in batch for key in pending.keys)
                for pending in batch:
                    tx.begin_write()  # this write's own revision
                    try:
                        result = pending.body(tx)
                    except BaseException as exc:
                        pending.future.set_exception(exc)
                        if tx.mutated:
                            raise _Undo from exc
                        continue  # it failed before it changed anything: nothing to undo
                    done.append((pending, result))
                tx.finish()
                changes = list(tx.changes)
        except _Undo:
            self.reruns += 1
            return [pending for pending in batch if not pending.future.done()]
        except BaseException as exc:
            log.warning("a batch of %d writes failed to commit: %s", len(batch), exc)
            for pending in batch:  # nothing of the batch is stored: every caller hears so
                if not pending.future.done():
                    pending.future.set_exception(exc)
            return None
        self.batches += 1
        if changes:
            try:
                self._on_commit(changes)
            except Exception:
                log.exception("a commit callback failed")
        for pending, result in done:
            pending.future.set_result(result)
        return None


class _Undo(Exception):
    """A write failed after it had changed the transaction: roll the batch back."""
