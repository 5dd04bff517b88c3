"""One reconcile pass: desired state from the caches, plan against Switchyard, apply it.

Rejected objects (4xx) are logged, counted, reported as a Kubernetes Event on their source and
not sent again until their desired document changes or a periodic resync forgets them; they
never stop the rest of the plan. 412 (stale) and an unavailable Switchyard end the pass: the
caller re-reads Switchyard and tries again with backoff.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from . import plan as planning
from .desired import Cache, desired_state
from .mapping import NodeDefaults
from .metrics import Metrics
from .objects import Desired, Key
from .switchyard import Rejected, Stale, SwitchyardClient, Unavailable

log = logging.getLogger("switchyard_kube.reconcile")
Reporter = Callable[[dict[str, Any], str, str], Awaitable[None]]
PAST = {"create": "created", "update": "updated", "delete": "deleted", "status": "set ready of"}


class Reconciler:
    def __init__(
        self,
        switchyard: SwitchyardClient,
        metrics: Metrics,
        defaults: NodeDefaults,
        report: Reporter | None = None,
        echo: Callable[[str], None] | None = None,
    ) -> None:
        self.switchyard = switchyard
        self.metrics = metrics
        self.defaults = defaults
        self.report = report
        self.echo = echo
        self.view: dict[Key, dict[str, Any]] | None = None
        # key -> digest Switchyard refused (or found owned by others): not retried while equal.
        self.refused: dict[Key, str] = {}
        self.outcomes: Counter[str] = Counter()  # "create:ok", "update:rejected", ...

    def forget(self) -> None:
        """Periodic resync: re-read Switchyard, and retry what was refused."""
        self.view = None
        self.refused.clear()

    async def plan(self, cache: Cache) -> planning.Plan:
        if self.view is None:
            self.view = await self.switchyard.view()
        desired = desired_state(cache, self.defaults)
        # An object gone from the cluster is no longer refused.
        self.refused = {k: v for k, v in self.refused.items() if k in desired}
        return planning.compute(desired, self.view)

    async def reconcile(self, cache: Cache, changed_at: float | None = None) -> planning.Plan:
        """Bring Switchyard to the caches' state; raises Unavailable or Stale to be retried."""
        plan = await self.plan(cache)
        assert self.view is not None
        for desired in plan.not_owned:
            await self._refuse(
                desired,
                "update",
                409,
                "the name is taken by an object the adapter did not create; it is left untouched",
            )
        for write in plan.writes:
            if write.desired is not None and self.refused.get(write.key) == write.desired.digest:
                continue
            try:
                stored = await self.switchyard.apply(write)
            except Rejected as exc:
                self._count(write.verb, "rejected")
                if write.desired is not None:
                    await self._refuse(write.desired, write.verb, exc.status, exc.detail)
                continue
            except Stale:
                self._count(write.verb, "stale")
                self.view = None
                raise
            except Unavailable:
                self._count(write.verb, "unavailable")
                self.view = None
                raise
            self._count(write.verb, "ok")
            self.refused.pop(write.key, None)
            if changed_at is not None:
                self.metrics.lag.observe(max(0.0, time.monotonic() - changed_at))
            if stored is None:
                self.view.pop(write.key, None)
                if write.key.kind == "Service":
                    self.view.pop(Key("EndpointSlice", write.key.namespace, write.key.name), None)
            else:
                self.view[write.key] = stored
            log.info(PAST[write.verb], extra={"object": str(write.key)})
            if self.echo is not None:
                self.echo(f"{PAST[write.verb]} {write.key}")
        for key in plan.kept:
            log.warning(
                "managed namespace kept: it holds objects the adapter did not create",
                extra={"object": str(key)},
            )
        self.metrics.rejected.set(len(self.refused))
        return plan

    def _count(self, verb: str, outcome: str) -> None:
        self.metrics.writes.labels(verb, outcome).inc()
        self.outcomes[f"{verb}:{outcome}"] += 1

    async def _refuse(self, desired: Desired, verb: str, status: int, detail: str) -> None:
        if self.refused.get(desired.key) == desired.digest:
            return  # reported already
        self.refused[desired.key] = desired.digest
        log.warning(
            "switchyard refused object",
            extra={"object": str(desired.key), "verb": verb, "status": status, "detail": detail},
        )
        if self.echo is not None:
            self.echo(f"refused {desired.key}: {status} {detail}")
        if self.report is not None:
            await self.report(desired.source, "SwitchyardRejected", f"{status}: {detail}")


def describe(plan: planning.Plan) -> list[str]:
    """The plan as lines a person reads (--dry-run)."""
    lines = [
        f"{w.verb} {w.key}"
        + (f" Ready={w.desired.ready}" if w.verb == "status" and w.desired else "")
        for w in plan.writes
    ]
    lines += [
        f"not-owned {d.key} (exists in Switchyard, not created by the adapter)"
        for d in plan.not_owned
    ]
    lines += [f"keep {k} (holds objects the adapter did not create)" for k in plan.kept]
    return lines
