"""Commit order equals revision order under concurrency, on PostgreSQL: many writers on two
replicas, and a change-log reader that must see revisions only ever increase and miss none."""

from __future__ import annotations

import threading
import time

from switchyard_api.store.db import create_store_engine
from switchyard_api.store.store import IntentStore

from .support import LiveServer

WRITERS = 16
SECONDS = 4.0


def test_change_log_readers_see_every_revision_in_order(fresh_postgres_url: str) -> None:
    reader_store = IntentStore(create_store_engine(fresh_postgres_url))
    seen: list[int] = []
    out_of_order: list[tuple[int, int]] = []
    answered: list[int] = []
    failures: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def read() -> None:
        last = 0
        while not stop.is_set():
            for row in reader_store.changes_after(last, limit=10_000):
                if row.revision <= last:
                    out_of_order.append((last, row.revision))
                last = max(last, row.revision)
                seen.append(row.revision)

    with LiveServer(fresh_postgres_url) as a, LiveServer(fresh_postgres_url) as b:
        assert a.client().put("/v1/namespaces/team-a", json={"spec": {}}).status_code == 201

        def write(index: int) -> None:
            server = a if index % 2 else b
            deadline = time.monotonic() + SECONDS
            n = 0
            with server.client() as client:
                while time.monotonic() < deadline:
                    n += 1
                    name = f"p-{index}-{n}"
                    body = {
                        "spec": {
                            "nodeName": "n1",
                            "podIPs": [f"10.{index}.{n // 250}.{n % 250 + 1}"],
                            "interface": f"tap-{index}-{n}",
                        }
                    }
                    response = client.put(f"/v1/namespaces/team-a/pods/{name}", json=body)
                    with lock:
                        if response.status_code == 201:
                            answered.append(int(response.json()["metadata"]["resourceVersion"]))
                        else:
                            failures.append(f"{response.status_code} {response.text}")

        reader = threading.Thread(target=read)
        reader.start()
        writers = [threading.Thread(target=write, args=(i,)) for i in range(WRITERS)]
        for thread in writers:
            thread.start()
        for thread in writers:
            thread.join(timeout=60)
        time.sleep(0.5)  # let the reader catch up with the last commits
        stop.set()
        reader.join(timeout=10)

    committed = [row.revision for row in reader_store.changes_after(0, limit=1_000_000)]
    reader_store.engine.dispose()
    assert failures == []
    assert len(answered) > WRITERS  # the writers really overlapped
    assert out_of_order == []
    assert seen == committed  # none skipped, none twice
    assert set(answered) <= set(committed)  # every answered write is in the log
