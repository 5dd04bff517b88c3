"""PUT/PATCH /v1/namespaces/{ns}/pods/{name}/status: writer tokens, or the node token of the
pod's own node (its agent or CNI reports readiness)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials

from .. import pod_status
from ..auth import ROLE_RANK, TokenStore, bearer
from ..errors import ApiError
from ..resources.pod_status import PodStatusDocument
from ..resources.registry import POD
from .crud import IfMatch, NamePath, NamespacePath, PatchBody, object_response
from .documents import DocumentModels
from .preconditions import parse_preconditions
from .problems import problem_responses

router = APIRouter(tags=["Pod"])
PATH = "/v1/namespaces/{namespace}/pods/{name}/status"
RESPONSES = problem_responses(400, 401, 403, 404, 412, 413, 422)


def status_writer(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)
) -> str | None:
    """None for a writer (any pod); a node's name for that node's token (its pods only)."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise ApiError(401, "Unauthorized", "missing bearer token")
    tokens: TokenStore = request.app.state.tokens
    row = tokens.lookup(credentials.credentials)
    if row is None:
        raise ApiError(401, "Unauthorized", "invalid or revoked token")
    if row.role == "node" and row.node_name:
        return row.node_name
    if ROLE_RANK.get(row.role, 0) < ROLE_RANK["writer"]:
        raise ApiError(403, "Forbidden", f"this needs role writer; the token has {row.role}")
    return None


Node = Annotated[str | None, Depends(status_writer)]
POD_DOCUMENT = DocumentModels(POD).document


@router.put(
    PATH,
    operation_id="replacePodStatus",
    summary="Replace a Pod's status (conditions)",
    response_model=POD_DOCUMENT,
    responses=RESPONSES,
)
def replace_status(
    request: Request,
    namespace: NamespacePath,
    name: NamePath,
    body: PodStatusDocument,
    node: Node,
    if_match: IfMatch = None,
) -> JSONResponse:
    pre = parse_preconditions(if_match, None)
    document = body.model_dump(mode="json", by_alias=True, exclude_unset=True)
    ignored: list[str] = []
    row = pod_status.replace_status(
        request.app.state.store, namespace, name, document, pre, node=node, warnings=ignored
    )
    return object_response(POD, row, ignored=ignored)


@router.patch(
    PATH,
    operation_id="patchPodStatus",
    summary="Merge-patch a Pod's status (RFC 7396)",
    response_model=POD_DOCUMENT,
    responses=RESPONSES,
)
def patch_status(
    request: Request,
    namespace: NamespacePath,
    name: NamePath,
    patch: PatchBody,
    node: Node,
    if_match: IfMatch = None,
) -> JSONResponse:
    pre = parse_preconditions(if_match, None)
    ignored: list[str] = []
    body: dict[str, Any] = patch
    row = pod_status.patch_status(
        request.app.state.store, namespace, name, body, pre, node=node, warnings=ignored
    )
    return object_response(POD, row, ignored=ignored)
