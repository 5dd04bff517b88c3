"""Pod attachments: what agents report about the pods switchyard-cni attached (node, pod,
container, VPP interface, IPs), and the pod rows a report touches.

A report changes the Pod's effective interface, so each one that concerns an existing pod
writes that pod again (same spec, new resourceVersion, a MODIFIED change): the compiler and
watchers see it like any other change. A report for a pod that does not exist yet is only
kept; the compiler reads it when the pod is created.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from .models import PodAttachment
from .store import IntentStore
from .transaction import WriteTransaction, utc_now

POD = "Pod"


@dataclass(frozen=True, slots=True)
class ReportedAttachment:
    namespace: str
    pod: str
    container_id: str
    interface: str
    ips: tuple[str, ...]
    mode: str
    detached: bool = False


@dataclass(frozen=True, slots=True)
class Attached:
    """The attachment the compiler and the Pod's status use."""

    node: str
    container_id: str
    interface: str
    ips: tuple[str, ...]
    mode: str


def acceptable(item: Any) -> bool:
    """A reported attachment that fits the table: names within their limits, a few IPs."""
    return (
        0 < len(item.namespace) <= 63
        and 0 < len(item.pod) <= 253
        and 0 < len(item.container_id) <= 256
        and len(item.interface) <= 64
        and (bool(item.interface) or item.detached)
        and len(item.ips) <= 4
        and all(len(ip) <= 45 for ip in item.ips)
        and item.mode in ("tap", "memif", "")
    )


def record_report(
    store: IntentStore, node: str, items: Iterable[ReportedAttachment], full: bool
) -> int:
    """Apply one agent report for `node` (the stream's own, authenticated node). Returns how
    many pods were touched."""
    items = list(items)
    with store.write() as tx:
        session = tx.session
        existing = {
            row.container_id: row
            for row in session.scalars(select(PodAttachment).where(PodAttachment.node == node))
        }
        touched: set[tuple[str, str]] = set()
        reported = {item.container_id for item in items if not item.detached}
        if full:
            for container_id, stale in existing.items():
                if container_id not in reported:
                    touched.add((stale.namespace, stale.pod))
                    session.delete(stale)
        for item in items:
            row = existing.get(item.container_id)
            if item.detached:
                if row is not None and not (full and item.container_id not in reported):
                    touched.add((row.namespace, row.pod))
                    session.delete(row)
                continue
            values = (item.namespace, item.pod, item.interface, list(item.ips), item.mode)
            if (
                row is not None
                and (row.namespace, row.pod, row.interface, row.ips, row.mode) == values
            ):
                continue
            if row is not None:
                touched.add((row.namespace, row.pod))  # it may have moved to another pod
                target = row
            else:
                target = PodAttachment(node=node, container_id=item.container_id)
                session.add(target)
            target.namespace, target.pod, target.interface, target.ips, target.mode = values
            target.reported_at = utc_now()
            touched.add((item.namespace, item.pod))
        session.flush()
        for namespace, pod in sorted(touched):
            _rewrite_pod(tx, namespace, pod)
    return len(touched)


def _rewrite_pod(tx: WriteTransaction, namespace: str, name: str) -> None:
    row = tx.get(POD, namespace, name)
    if row is not None:
        tx.put(
            POD,
            namespace,
            name,
            labels=dict(row.labels),
            annotations=dict(row.annotations),
            spec=dict(row.spec),
        )


def attachments_by_pod(
    store: IntentStore, pods: Iterable[tuple[str, str]] | None = None
) -> dict[tuple[str, str], list[Attached]]:
    """Attachments per (namespace, pod): all of them, or those of `pods`."""
    wanted = None if pods is None else set(pods)
    query = select(PodAttachment).order_by(PodAttachment.reported_at, PodAttachment.node)
    if wanted is not None:
        if not wanted:
            return {}
        query = query.where(PodAttachment.pod.in_(sorted({p for _, p in wanted})))
    out: dict[tuple[str, str], list[Attached]] = {}
    with store.read() as session:
        for row in session.scalars(query):
            key = (row.namespace, row.pod)
            if wanted is None or key in wanted:
                attached = Attached(
                    row.node, row.container_id, row.interface, tuple(row.ips), row.mode
                )
                out.setdefault(key, []).append(attached)
    return out


def effective(attachments: list[Attached] | None, node: str) -> Attached | None:
    """The attachment that counts for a pod on `node`: the newest one its node reported."""
    mine = [a for a in attachments or () if a.node == node]
    return mine[-1] if mine else None


__all__ = [
    "Attached",
    "ReportedAttachment",
    "acceptable",
    "attachments_by_pod",
    "effective",
    "record_report",
]
