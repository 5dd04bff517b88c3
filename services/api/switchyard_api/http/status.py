"""Convergence over REST: the global revision, each node's applied revision and errors, and
the compiled configuration of a node."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from ..auth import require
from ..errors import ApiError, not_found
from ..redaction import known_secrets, redacted_object, scrub, scrub_json
from ..resources.node import NodeStatus
from ..resources.registry import NODE
from ..store.models import StoredObject
from .crud import NAME_PATTERN
from .problems import problem_responses

router = APIRouter(tags=["Status"], dependencies=[Depends(require("reader"))])


class NodeConvergence(NodeStatus):
    name: str
    lag: int | None = Field(
        description="revisions behind the global revision; null if never applied"
    )


class CompileErrorStatus(BaseModel):
    object: str
    node: str
    message: str


class ClusterStatus(BaseModel):
    revision: int
    compiledRevision: int | None = Field(description="revision this replica has compiled")
    nodes: list[NodeConvergence]
    compileErrors: list[CompileErrorStatus]


class NodeConfigDocument(BaseModel):
    node: str
    revision: int
    objects: dict[str, Any]


def _distribution(request: Request) -> Any:
    return getattr(request.app.state, "distribution", None)


@router.get(
    "/v1/status",
    operation_id="readStatus",
    response_model=ClusterStatus,
    responses=problem_responses(401, 403),
)
async def read_status(request: Request) -> ClusterStatus:
    store = request.app.state.store
    revision: int = await run_in_threadpool(store.current_revision)
    rows: list[StoredObject] = await run_in_threadpool(store.list_all, NODE.kind)
    secrets = await run_in_threadpool(known_secrets, store)
    nodes = []
    for row in rows:
        # Agents' error messages may quote a secret.
        state = NodeStatus.model_validate(scrub_json(row.status or {}, secrets))
        applied = state.appliedRevision
        nodes.append(
            NodeConvergence(
                name=row.name,
                lag=None if applied is None else max(0, revision - applied),
                **state.model_dump(),
            )
        )
    distribution = _distribution(request)
    errors: list[CompileErrorStatus] = []
    compiled: int | None = None
    if distribution is not None:
        compiled = distribution.hub.state.revision
        found = await distribution.hub.in_worker(distribution.hub.state.errors)
        errors = [
            CompileErrorStatus(object=str(e.ref), node=e.node, message=scrub(e.message, secrets))
            for e in found
        ]
    return ClusterStatus(
        revision=revision, compiledRevision=compiled, nodes=nodes, compileErrors=errors
    )


@router.get(
    "/v1/nodes/{name}/config",
    operation_id="readNodeConfig",
    response_model=NodeConfigDocument,
    responses=problem_responses(401, 403, 404, 503),
)
async def read_node_config(
    request: Request, name: Annotated[str, Path(max_length=63, pattern=NAME_PATTERN)]
) -> NodeConfigDocument:
    distribution = _distribution(request)
    if distribution is None:
        raise ApiError(503, "Service Unavailable", "this replica does not run the distribution")
    hub = distribution.hub

    def snapshot() -> tuple[int, Any, bool]:
        return hub.state.revision, hub.state.node_config(name), name in hub.state.nodes()

    revision, config, known = await hub.in_worker(snapshot)
    if not known:
        raise not_found(f"Node {name}")
    objects = {key: redacted_object(obj) for key, obj in config.objects.items()}
    return NodeConfigDocument(node=name, revision=revision, objects=objects)
