"""dryRun=All on every write: the full validation and conflict checks run in a transaction
that is rolled back, and the response is the object as it would be stored plus the per-node
plan computed with this replica's compiled state (explain/plan.py)."""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from fastapi import Query, Request
from fastapi.responses import JSONResponse

from ..compiler.part import IntentChange
from ..distribution.intent_state import intent_of
from ..errors import ApiError
from ..explain.plan import CompilerBehind, Plan, plan_document, plan_on_worker
from ..representation import to_document
from ..resources.intent import ObjectRef
from ..resources.registry import KindInfo
from ..store.models import StoredObject
from ..store.transaction import WriteTransaction
from .explain import compiled_hub

DryRunQuery = Annotated[
    Literal["All"] | None,
    Query(
        alias="dryRun",
        description="All: validate and check conflicts, store nothing; the response is the "
        "object as it would be stored plus `plan`: per node, the dataplane keys that would be "
        "added, changed and removed",
    ),
]
VerboseQuery = Annotated[
    str | None,
    Query(description="with dryRun: the plan also carries the values (`?verbose`)"),
]
CATCH_UP_TIMEOUT = 10.0


class DryRun:
    """The writes.DryRunHook of one request, and what it found."""

    def __init__(self, request: Request, verbose: str | None) -> None:
        self.hub = compiled_hub(request)
        self.verbose = verbose is not None and verbose.lower() not in ("false", "0", "no")
        self.document: dict[str, Any] = {}
        self.forward: list[IntentChange] = []

    def __call__(self, tx: WriteTransaction, info: KindInfo, row: StoredObject) -> None:
        """Inside the transaction: what the write would store, before it is rolled back."""
        self.document = to_document(info, row)
        refs = list(dict.fromkeys(ObjectRef(c.kind, c.namespace, c.name) for c in tx.changes))
        for ref in refs:
            written = tx.get(ref.kind, ref.namespace, ref.name)
            self.forward.append(
                IntentChange(ref, intent_of(written) if written is not None else None)
            )

    def _plan(self) -> Plan:
        """After the rollback (the compiler's reads must not wait for this transaction's
        lock): planned on the worker once the compiler has reached the end of the log."""
        deadline = time.monotonic() + CATCH_UP_TIMEOUT
        while True:
            if self.hub.ready.is_set():
                try:
                    plan: Plan = self.hub.run_blocking(plan_on_worker, self.hub.state, self.forward)
                    return plan
                except CompilerBehind:
                    pass
            if time.monotonic() > deadline:
                raise ApiError(
                    503, "Service Unavailable", "the compiled state is behind the store; retry"
                )
            time.sleep(0.02)

    def response(self, status: int = 200, revision: int | None = None) -> JSONResponse:
        document = dict(self.document)
        if revision is not None:
            document["metadata"] = {**document["metadata"], "resourceVersion": str(revision)}
        document["plan"] = plan_document(self._plan(), self.verbose)
        return JSONResponse(document, status_code=status)
