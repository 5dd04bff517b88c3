"""POST /v1/explain: why a flow is allowed or denied, and where it goes, answered from this
replica's compiled dataplane (a pure read on the distributor's worker)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from fastapi import APIRouter, Depends, Request

from ..auth import require
from ..distribution.intent_state import CompiledState
from ..errors import ApiError
from ..explain.flow import explain_flow
from ..explain.model import Explanation
from ..explain.request import FlowRequest
from .problems import problem_responses

CATCH_UP_TIMEOUT = 5.0
router = APIRouter(tags=["Explain"], dependencies=[Depends(require("reader"))])


def compiled_hub(request: Request) -> Any:
    distribution = getattr(request.app.state, "distribution", None)
    if distribution is None:
        raise ApiError(503, "Service Unavailable", "this replica does not run the distribution")
    return distribution.hub


async def wait_compiled(hub: Any, timeout: float = 30.0) -> None:
    try:
        await asyncio.wait_for(hub.ready.wait(), timeout)
    except TimeoutError:
        raise ApiError(503, "Service Unavailable", "the intent is not compiled yet") from None


@router.post(
    "/v1/explain",
    operation_id="explainFlow",
    summary="Explain a flow: translation, ACL checkpoints and verdict per backend",
    response_model=Explanation,
    responses=problem_responses(400, 401, 403, 413, 422, 503),
)
async def explain(request: Request, body: FlowRequest) -> Explanation:
    hub = compiled_hub(request)
    await wait_compiled(hub)
    # Read your writes: answer once the compiler has reached the end of the committed log
    # (or, if it stays behind that long, from what it has compiled: compiledRevision says).
    deadline = time.monotonic() + CATCH_UP_TIMEOUT
    while True:
        current = time.monotonic() > deadline
        result: Explanation | None = await hub.in_worker(_explain, hub.state, body, current)
        if result is not None:
            return result
        await asyncio.sleep(0.02)


def _explain(state: CompiledState, body: FlowRequest, anyway: bool) -> Explanation | None:
    if not anyway and state.store.changes_after(state.revision, 1):
        return None
    result = explain_flow(state.compiler, body)
    result.compiledRevision = state.revision
    return result
