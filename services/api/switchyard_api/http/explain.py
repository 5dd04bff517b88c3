"""POST /v1/explain: why a flow is allowed or denied, and where it goes, answered from this
replica's compiled dataplane (a pure read on the distributor's worker)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends, Request

from ..auth import require
from ..errors import ApiError
from ..explain.flow import explain_flow
from ..explain.model import Explanation
from ..explain.request import FlowRequest
from .problems import problem_responses

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
    result: Explanation = await hub.in_worker(explain_flow, hub.state.compiler, body)
    return result
