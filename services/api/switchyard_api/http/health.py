"""Unauthenticated operational endpoints: liveness, readiness, Prometheus metrics."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from ..metrics import ApiMetrics
from ..store.db import schema_problem
from ..store.store import IntentStore
from .problems import problem_response, problem_responses

router = APIRouter(tags=["Operations"])


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    revision: int


@router.get("/healthz", operation_id="getHealth", response_model=Health)
def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    operation_id="getReadiness",
    response_model=Readiness,
    responses=problem_responses(503),
)
async def readyz(request: Request) -> Response:
    store: IntentStore = request.app.state.store
    problem = await run_in_threadpool(schema_problem, store.engine)
    if problem is not None:
        return problem_response(503, problem, instance="/readyz")
    revision = await run_in_threadpool(store.current_revision)
    request.app.state.metrics.revision.set(revision)
    return JSONResponse({"status": "ready", "revision": revision})


@router.get(
    "/metrics",
    operation_id="getMetrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
def metrics(request: Request) -> Response:
    registry: ApiMetrics = request.app.state.metrics
    return Response(generate_latest(registry.registry), media_type=CONTENT_TYPE_LATEST)
