"""Group commit: queued writes share one transaction; a failing write rolls back alone."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from switchyard_api.store.db import create_store_engine
from switchyard_api.store.store import IntentStore
from switchyard_api.store.transaction import WriteTransaction


def put(tx: WriteTransaction, name: str) -> int:
    row = tx.put("Node", "", name, labels={}, annotations={}, spec={"addresses": []})
    return row.resource_version


def test_queued_writes_commit_together_in_order(database_url: str) -> None:
    store = IntentStore(create_store_engine(database_url))
    release = threading.Event()
    waiting = 30

    def first(tx: WriteTransaction) -> int:
        # Hold the first batch open until every other write is queued behind it.
        deadline = time.monotonic() + 10
        while store._group._queue.qsize() < waiting and time.monotonic() < deadline:
            time.sleep(0.01)
        release.set()
        return put(tx, "first")

    try:
        with ThreadPoolExecutor(max_workers=waiting + 1) as pool:
            head = pool.submit(store.run, first)
            time.sleep(0.05)
            rest = [pool.submit(store.run, lambda tx, i=i: put(tx, f"n{i}")) for i in range(30)]
            revisions = [head.result(timeout=20)] + [f.result(timeout=20) for f in rest]
        assert release.is_set()
        assert store._group.batches == 2
        assert len(set(revisions)) == len(revisions)
        log = [row.revision for row in store.changes_after(0)]
        assert log == sorted(revisions)
    finally:
        store.close()
        store.engine.dispose()


def test_a_failing_write_rolls_back_alone(database_url: str) -> None:
    store = IntentStore(create_store_engine(database_url))
    gate = threading.Event()

    def blocker(tx: WriteTransaction) -> int:
        gate.wait(10)
        return put(tx, "a")

    def failing(tx: WriteTransaction) -> int:
        put(tx, "b")
        raise ValueError("rejected after writing")

    try:
        with ThreadPoolExecutor(max_workers=3) as pool:
            first = pool.submit(store.run, blocker)
            time.sleep(0.05)
            bad = pool.submit(store.run, failing)
            good = pool.submit(store.run, lambda tx: put(tx, "c"))
            time.sleep(0.1)
            gate.set()
            first.result(timeout=20)
            with pytest.raises(ValueError, match="rejected after writing"):
                bad.result(timeout=20)
            good.result(timeout=20)
        assert store.get("Node", "", "a") is not None
        assert store.get("Node", "", "b") is None
        assert store.get("Node", "", "c") is not None
        logged = {row.name for row in store.changes_after(0)}
        assert logged == {"a", "c"}
    finally:
        store.close()
        store.engine.dispose()
