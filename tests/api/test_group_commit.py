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


def test_writes_of_one_batch_see_each_other_and_revisions_have_no_gap(database_url: str) -> None:
    """Within a batch the transaction answers reads from what it wrote (nothing is flushed
    between writes): Pods written after their Service in the same batch become its
    endpoints, a second create of the same object is refused, a write that fails half-way
    is run out of the batch, and the committed writes' revisions follow without a gap."""
    from switchyard_api.errors import ApiError
    from switchyard_api.resources.registry import NAMESPACE, NODE, POD, SERVICE
    from switchyard_api.writes import IntentWriter

    store = IntentStore(create_store_engine(database_url))
    writer = IntentWriter(store, (30000, 32767))
    writer.create(NAMESPACE, "", {"metadata": {"name": "team"}, "spec": {}})
    writer.create(NODE, "", {"metadata": {"name": "n1"}, "spec": {"addresses": ["192.0.2.1"]}})
    start = store.current_revision()
    gate = threading.Event()

    def pod(name: str, ip: str) -> dict[str, object]:
        spec = {"nodeName": "n1", "podIPs": [ip], "interface": f"tap-{name}"}
        return {"metadata": {"name": name, "labels": {"app": "web"}}, "spec": spec}

    def half_way(tx: WriteTransaction) -> None:
        put(tx, "half-way")
        raise ValueError("failed after writing")

    service = {
        "metadata": {"name": "web"},
        "spec": {"clusterIPs": ["10.96.0.10"], "selector": {"app": "web"}, "ports": [{"port": 80}]},
    }
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            head = pool.submit(store.run, lambda tx: gate.wait(10))
            time.sleep(0.05)
            jobs = []
            for job in (
                lambda: writer.create(SERVICE, "team", service),
                lambda: writer.create(POD, "team", pod("a", "10.1.0.1")),
                lambda: store.run(half_way),
                lambda: writer.create(POD, "team", pod("a", "10.1.0.3")),
                lambda: writer.create(POD, "team", pod("b", "10.1.0.2")),
            ):
                jobs.append(pool.submit(job))
                time.sleep(0.02)  # queued in this order
            deadline = time.monotonic() + 10
            while store._group._queue.qsize() < len(jobs) and time.monotonic() < deadline:
                time.sleep(0.01)
            gate.set()
            head.result(timeout=20)
            outcomes: list[object] = []
            for job in jobs:
                try:
                    outcomes.append(job.result(timeout=20))
                except (ApiError, ValueError) as exc:
                    outcomes.append(exc)
        assert isinstance(outcomes[2], ValueError)
        assert isinstance(outcomes[3], ApiError) and outcomes[3].status == 409
        slice_ = store.get("EndpointSlice", "team", "web")
        assert slice_ is not None
        addresses = sorted(e["addresses"][0] for e in slice_.spec["endpoints"])
        assert addresses == ["10.1.0.1", "10.1.0.2"]
        assert store.get("Node", "", "half-way") is None
        revisions = sorted({row.revision for row in store.changes_after(start)})
        assert revisions == list(range(start + 1, start + 4))  # pod a, pod b, the service
        assert store.current_revision() == start + 3
        assert store._group.reruns >= 1
    finally:
        store.close()
        store.engine.dispose()
