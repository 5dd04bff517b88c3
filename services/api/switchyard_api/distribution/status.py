"""Agent reports (ACK/NACK, connect/disconnect) persisted in batches.

Reports arrive from many streams at once; writing each in its own transaction would make the
database the bottleneck of a fan-out, so they are queued and written together every flush.
A node's status lives in its Node row's `status` column: it is not intent, so it takes no
revision and wakes nobody.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, insert, select, update

from ..store.models import NodeReport, StoredObject
from ..store.store import IntentStore
from ..store.transaction import utc_now

log = logging.getLogger("switchyard.distribution")
REPORTS_KEPT_PER_NODE = 100
PRUNE_EVERY_FLUSHES = 50
RETRYING_LISTED = 100  # a node's status names at most this many retrying objects
PENDING_LISTED = 100  # ... and explains at most this many pending ones (the count is exact)


@dataclass
class NodeState:
    connected: bool = False
    agentVersion: str | None = None
    appliedRevision: int | None = None
    lastError: str | None = None
    lastSeen: str | None = None
    errors: list[dict[str, str]] = field(default_factory=list)
    replica: str | None = None
    dataplanes: dict[str, str] = field(default_factory=dict)
    pendingObjects: int = 0
    acked: bool = False  # the agent's answer for appliedRevision was an ACK
    retryingObjects: list[str] = field(default_factory=list)
    pending: list[dict[str, Any]] = field(default_factory=list)  # {key, waitingFor, reason}

    @property
    def dataplanes_down(self) -> list[str]:
        return sorted(name for name, state in self.dataplanes.items() if state != "connected")

    def as_json(self) -> dict[str, Any]:
        down = self.dataplanes_down if self.dataplanes else []  # once per node per flush
        return {
            "connected": self.connected,
            "agentVersion": self.agentVersion,
            "appliedRevision": self.appliedRevision,
            "lastError": self.lastError,
            "lastSeen": self.lastSeen,
            "errors": self.errors,
            "replica": self.replica,
            "dataplanes": self.dataplanes,
            "pendingObjects": self.pendingObjects,
            "acked": self.acked,
            "converged": self.connected and self.acked and not down,
            "dataplanesDown": down,
            "retryingObjects": self.retryingObjects,
            "pending": self.pending,
        }


# A node_reports row as COPY takes it: node, revision, outcome (ACK | NACK), errors (JSON),
# replica, reported_at. A plain tuple: a thousand are made per write at 1,000 agents.
ReportRow = tuple[str, int, str, str, str, str]
_NO_ERRORS = "[]"


class _Clock:
    """utc_now(), formatted once per second rather than once per ACK."""

    def __init__(self) -> None:
        self._second = -1
        self._text = ""

    def now(self) -> str:
        second = int(time.time())
        if second != self._second:
            self._text, self._second = utc_now(), second
        return self._text


class NodeStatusRecorder:
    def __init__(self, store: IntentStore, replica: str) -> None:
        self.store = store
        self.replica = replica
        self._lock = threading.Lock()
        self._states: dict[str, NodeState] = {}
        self._dirty: set[str] = set()
        self._reports: list[ReportRow] = []
        self._flushes = 0
        self._clock = _Clock()

    def _state(self, node: str) -> NodeState:
        return self._states.setdefault(node, NodeState())

    # Called from the event loop; cheap, in memory.
    def connected(self, node: str, agent_version: str, applied: int | None) -> None:
        with self._lock:
            state = self._state(node)
            state.connected, state.agentVersion, state.replica = True, agent_version, self.replica
            state.appliedRevision = applied if applied is not None else state.appliedRevision
            state.lastSeen = utc_now()
            self._dirty.add(node)

    def disconnected(self, node: str) -> None:
        with self._lock:
            state = self._state(node)
            state.connected, state.lastSeen, state.dataplanes = False, utc_now(), {}
            self._dirty.add(node)

    def report(self, node: str, revision: int, errors: list[dict[str, str]], message: str) -> None:
        now = self._clock.now()
        failed = bool(errors or message)
        row = (
            node,
            revision,
            "NACK" if failed else "ACK",
            json.dumps(errors) if errors else _NO_ERRORS,
            self.replica,
            now,
        )
        with self._lock:
            state = self._state(node)
            state.appliedRevision, state.lastSeen, state.errors = revision, now, errors
            state.acked = not failed
            if failed:
                first = errors[0] if errors else {"key": "", "message": message}
                more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
                state.lastError = f"{first['key']}: {first['message']}{more}".lstrip(": ")
            else:
                state.lastError = None
            self._dirty.add(node)
            self._reports.append(row)

    def agent_status(
        self,
        node: str,
        dataplanes: dict[str, str],
        pending: int,
        retrying: list[str] | None = None,
        waiting: list[dict[str, Any]] | None = None,
    ) -> None:
        """The agent's own view: its dataplanes' connection state, how many objects wait (and
        the first of them with what each waits for) and the failed objects it retries by
        itself."""
        with self._lock:
            state = self._state(node)
            state.lastSeen, state.dataplanes, state.pendingObjects = utc_now(), dataplanes, pending
            state.retryingObjects = sorted(retrying or ())[:RETRYING_LISTED]
            state.pending = list(waiting or ())[:PENDING_LISTED]
            self._dirty.add(node)

    # Called from a worker thread.
    def flush(self) -> None:
        with self._lock:
            # as_json() copies what may change: its lists and dicts are replaced, never
            # mutated, by the methods above.
            statuses = {node: self._states[node].as_json() for node in self._dirty}
            rows, self._reports, self._dirty = self._reports, [], set()
        if not statuses and not rows:
            return
        with self.store.read() as session, session.begin():
            # One statement each, not a round trip per node: a fan-out to a thousand agents
            # brings a thousand ACKs per write.
            if session.get_bind().dialect.name == "postgresql":
                _write_postgres(session, statuses, rows)
            else:
                _write_portable(session, statuses, rows)
            self._flushes += 1
            if self._flushes % PRUNE_EVERY_FLUSHES == 0:
                self._prune(session)

    @staticmethod
    def _prune(session: Any) -> None:
        """Keep the newest reports of each node, in one statement."""
        ranked = select(
            NodeReport.id,
            func.row_number()
            .over(partition_by=NodeReport.node, order_by=NodeReport.id.desc())
            .label("rank"),
        ).subquery()
        old = select(ranked.c.id).where(ranked.c.rank > REPORTS_KEPT_PER_NODE)
        session.execute(delete(NodeReport).where(NodeReport.id.in_(old)))

    def rewrite_connected(self) -> None:
        """Write every node this replica holds again (after others may have aged it out)."""
        with self._lock:
            self._dirty.update(n for n, s in self._states.items() if s.connected)

    def all_disconnected(self) -> None:
        """This replica is stopping: its streams end."""
        with self._lock:
            for node, state in self._states.items():
                if state.connected and state.replica == self.replica:
                    state.connected = False
                    self._dirty.add(node)


_REPORT_COLUMNS = ("node", "revision", "outcome", "errors", "replica", "reported_at")


def _write_postgres(
    session: Any, statuses: dict[str, dict[str, Any]], rows: list[ReportRow]
) -> None:
    """COPY for the reports and one UPDATE for the statuses, from one JSON object (node ->
    status): a few milliseconds for a thousand nodes, where ORM bulk operations took most of a
    core and text arrays of JSON cost psycopg an escaping pass per quote."""
    cursor = session.connection().connection.driver_connection.cursor()
    if statuses:
        cursor.execute(
            "UPDATE objects AS o SET status = v.status "
            "FROM json_each(%s::json) AS v(name, status) "
            "WHERE o.kind = 'Node' AND o.namespace = '' AND o.name = v.name",
            (json.dumps(statuses),),
        )
    if rows:
        with cursor.copy(f"COPY node_reports ({', '.join(_REPORT_COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def _write_portable(
    session: Any, statuses: dict[str, dict[str, Any]], rows: list[ReportRow]
) -> None:
    for node, status in statuses.items():
        session.execute(
            update(StoredObject)
            .where(StoredObject.kind == "Node", StoredObject.namespace == "")
            .where(StoredObject.name == node)
            .values(status=status)
        )
    if rows:
        session.execute(
            insert(NodeReport),
            [
                dict(zip(_REPORT_COLUMNS, (*row[:3], json.loads(row[3]), *row[4:]), strict=True))
                for row in rows
            ],
        )
