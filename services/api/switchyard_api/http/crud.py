"""Generic create/read/replace/patch/delete/list routes, instantiated once per kind."""

import base64
import binascii
import functools
import json
import re
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import WithJsonSchema

from ..auth import require
from ..distribution.object_status import ObjectStatusView, attribute
from ..errors import invalid, not_found
from ..redaction import known_secrets, scrub_json
from ..representation import to_document
from ..resources import patterns
from ..resources.common import API_VERSION, LabelSelector, SafeStr
from ..resources.registry import KindInfo
from ..resources.selector_syntax import parse_label_selector
from ..store.attachments import attachments_by_pod
from ..store.models import StoredObject
from ..writes import IntentWriter
from .documents import DocumentModels
from .dry_run import DryRun, DryRunQuery, VerboseQuery
from .preconditions import IF_MATCH_PATTERN, etag, parse_preconditions
from .prepared import PreparedObject
from .problems import problem_responses

MERGE_PATCH = "application/merge-patch+json"
MAX_LIMIT = 10_000
NAME_PATTERN = patterns.DNS1123_LABEL  # every stored name is a DNS-1123 label
NamespacePath = Annotated[
    str, Path(description="namespace name", max_length=63, pattern=NAME_PATTERN)
]
NamePath = Annotated[str, Path(description="object name", max_length=63, pattern=NAME_PATTERN)]
# The schema publishes what parse_preconditions accepts (it answers anything else with a 400);
# WithJsonSchema keeps "null" out of the published values: an absent header is no header.
IfMatch = Annotated[
    str | None,
    Header(description="resourceVersion the object must still have (or *)"),
    WithJsonSchema({"type": "string", "pattern": IF_MATCH_PATTERN}),
]
IfNoneMatch = Annotated[
    str | None,
    Header(description="`*`: create only, 412 if it exists"),
    WithJsonSchema({"type": "string", "enum": ["*"]}),
]
PatchBody = Annotated[
    dict[str, Any],
    Body(media_type=MERGE_PATCH, description="RFC 7396 JSON merge patch"),
]


ETAG_HEADER = {
    "ETag": {
        "description": "the object's resourceVersion, quoted; give it back in If-Match",
        "schema": {"type": "string", "pattern": '^"[0-9]+"$'},
    }
}


def with_etag(status: int, description: str) -> dict[int | str, dict[str, Any]]:
    return {status: {"description": description, "headers": ETAG_HEADER}}


def plural_id(kind: str) -> str:
    return kind[:-1] + "ies" if kind.endswith("y") else kind + "s"


def object_response(
    info: KindInfo, row: StoredObject, view: ObjectStatusView, secrets: list[str]
) -> JSONResponse:
    return JSONResponse(
        document_of(info, row, view, secrets), headers={"ETag": etag(row.resource_version)}
    )


def document_of(
    info: KindInfo, row: StoredObject, view: ObjectStatusView | None, secrets: list[str]
) -> dict[str, Any]:
    document = to_document(info, row)
    if view is not None and info.status_model is None:
        document["status"] = {**view.status_of(row), **document.get("status", {})}
    if "status" in document:  # agents' error messages may quote a secret
        document["status"] = scrub_json(document["status"], secrets)
    return document


def status_view(request: Request, kind: str = "") -> ObjectStatusView:
    """Convergence of objects: nodes' reports, attributed by this replica's compiled state;
    for Pods also the attachments their nodes reported."""
    store = request.app.state.store
    nodes = store.list_all("Node")
    attachments = attachments_by_pod(store) if kind == "Pod" else None
    distribution = getattr(request.app.state, "distribution", None)
    if distribution is None:
        failures, errors, unattributed = attribute(None, nodes)
    else:
        hub = distribution.hub
        failures, errors, unattributed = hub.run_blocking(attribute, hub.state, nodes)
    return ObjectStatusView(nodes, failures, errors, unattributed, attachments)


def encode_cursor(namespace: str, name: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([namespace, name]).encode()).decode()


def decode_cursor(token: str) -> tuple[str, str]:
    try:
        value = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise invalid("continue", "not a continue token returned by this API") from None
    if not (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, str) and re.fullmatch(r"[a-z0-9.-]{0,253}", v) for v in value)
    ):
        raise invalid("continue", "not a continue token returned by this API")
    return value[0], value[1]


def parse_selector(text: str | None) -> LabelSelector | None:
    if text is None:
        return None
    try:
        return parse_label_selector(text)
    except ValueError as exc:
        raise invalid("labelSelector", str(exc)) from None


def list_objects(
    request: Request,
    info: KindInfo,
    namespace: str | None,
    selector_text: str | None,
    limit: int | None,
    cursor: str | None,
) -> dict[str, Any]:
    store = request.app.state.store
    selector = parse_selector(selector_text)
    after = decode_cursor(cursor) if cursor else None
    revision = store.current_revision()
    wanted = limit or MAX_LIMIT
    items: list[StoredObject] = []
    more = False
    batch = min(max(wanted + 1, 100), 1000)
    while True:
        rows = store.list_page(info.kind, namespace, after, batch)
        for row in rows:
            if selector is None or selector.matches(row.labels):
                if len(items) == wanted:
                    more = True
                    break
                items.append(row)
        if more or len(rows) < batch:
            break
        after = (rows[-1].namespace, rows[-1].name)
    view = status_view(request, info.kind) if items and info.status_model is None else None
    secrets = known_secrets(store) if items else []
    metadata: dict[str, Any] = {"resourceVersion": str(revision)}
    if more:
        metadata["continue"] = encode_cursor(items[-1].namespace, items[-1].name)
    return {
        "apiVersion": API_VERSION,
        "kind": f"{info.kind}List",
        "metadata": metadata,
        "items": [document_of(info, row, view, secrets) for row in items],
    }


def _namespace_scope(info: KindInfo) -> Any:
    """The namespace of a request: the path parameter, or "" for cluster-scoped kinds."""
    if info.namespaced:

        def namespaced(namespace: NamespacePath) -> str:
            return namespace

        return namespaced

    def cluster() -> str:
        return ""

    return cluster


def _writer(request: Request) -> IntentWriter:
    writer: IntentWriter = request.app.state.writer
    return writer


READER = [Depends(require("reader"))]
WRITER = [Depends(require("writer"))]
AUTH = (401, 403)


@functools.cache
def kind_router(info: KindInfo) -> APIRouter:
    """Routes of one kind. EndpointSlice is addressed through its service and has no list."""
    router = APIRouter(tags=[info.kind])
    models = DocumentModels(info)
    collection = (
        f"/v1/namespaces/{{namespace}}/{info.plural}" if info.namespaced else f"/v1/{info.plural}"
    )
    if info.flat:
        item, one = "/v1/namespaces/{namespace}/services/{name}/endpoints", "ServiceEndpoints"
    else:
        item, one = collection + "/{name}", info.kind
        _collection_routes(router, info, models, collection)
    _item_routes(router, info, models, item, one)
    return router


def _collection_routes(
    router: APIRouter, info: KindInfo, models: DocumentModels, path: str
) -> None:
    Scope = Annotated[str, Depends(_namespace_scope(info))]
    many = plural_id(info.kind)

    @router.get(
        path,
        operation_id=f"list{many}",
        summary=f"List {many}",
        dependencies=READER,
        response_model=models.list,
        responses=problem_responses(*AUTH, 422),
    )
    def list_route(
        request: Request,
        namespace: Scope,
        labelSelector: Annotated[
            str | None,
            Query(description="Kubernetes label selector, e.g. app=web,tier!=db"),
            WithJsonSchema({"type": "string", "pattern": patterns.LABEL_SELECTOR}),
        ] = None,
        limit: Annotated[int | None, Query(ge=1, le=MAX_LIMIT)] = None,
        continue_: Annotated[
            SafeStr | None, Query(alias="continue", description="cursor from a previous page")
        ] = None,
    ) -> JSONResponse:
        scope = namespace if info.namespaced else None
        return JSONResponse(list_objects(request, info, scope, labelSelector, limit, continue_))

    @router.post(
        path,
        operation_id=f"create{info.kind}",
        summary=f"Create a {info.kind}",
        status_code=201,
        dependencies=WRITER,
        response_model=models.document,
        responses={**with_etag(201, "Created"), **problem_responses(400, *AUTH, 409, 413, 422)},
    )
    def create_route(
        request: Request,
        namespace: Scope,
        body: models.create_input,  # type: ignore[name-defined]
        dry_run: DryRunQuery = None,
        verbose: VerboseQuery = None,
    ) -> Response:
        document = body.model_dump(mode="json", by_alias=True, exclude_unset=True)
        prepared = PreparedObject(info)
        planner = DryRun(request, verbose) if dry_run else None
        _writer(request).create(info, namespace, document, prepared.ignored, prepared, planner)
        if planner:
            return planner.response(201)
        return prepared.response(201)


def _item_routes(
    router: APIRouter, info: KindInfo, models: DocumentModels, path: str, one: str
) -> None:
    Scope = Annotated[str, Depends(_namespace_scope(info))]

    @router.get(
        path,
        operation_id=f"read{one}",
        summary=f"Read a {one}",
        dependencies=READER,
        response_model=models.document,
        responses={**with_etag(200, "The object"), **problem_responses(*AUTH, 404)},
    )
    def read_route(request: Request, namespace: Scope, name: NamePath) -> JSONResponse:
        row = request.app.state.store.get(info.kind, namespace, name)
        if row is None:
            raise not_found(f"{one} {namespace + '/' if namespace else ''}{name}")
        store = request.app.state.store
        return object_response(info, row, status_view(request, info.kind), known_secrets(store))

    @router.put(
        path,
        operation_id=f"replace{one}",
        summary=f"Create or replace a {one}",
        dependencies=WRITER,
        response_model=models.document,
        responses={
            **with_etag(200, "Replaced"),
            201: {"description": "Created", "model": models.document, "headers": ETAG_HEADER},
            **problem_responses(400, *AUTH, 404, 409, 412, 413, 422),
        },
    )
    def replace_route(
        request: Request,
        namespace: Scope,
        name: NamePath,
        body: models.input,  # type: ignore[name-defined]
        if_match: IfMatch = None,
        if_none_match: IfNoneMatch = None,
        dry_run: DryRunQuery = None,
        verbose: VerboseQuery = None,
    ) -> Response:
        pre = parse_preconditions(if_match, if_none_match)
        document = body.model_dump(mode="json", by_alias=True, exclude_unset=True)
        prepared = PreparedObject(info)
        planner = DryRun(request, verbose) if dry_run else None
        _, created = _writer(request).replace(
            info, namespace, name, document, pre, prepared.ignored, prepared, planner
        )
        status = 201 if created else 200
        if planner:
            return planner.response(status)
        return prepared.response(status)

    @router.patch(
        path,
        operation_id=f"patch{one}",
        summary=f"Merge-patch a {one} (RFC 7396)",
        dependencies=WRITER,
        response_model=models.document,
        responses={
            **with_etag(200, "Patched"),
            **problem_responses(400, *AUTH, 404, 409, 412, 413, 422),
        },
    )
    def patch_route(
        request: Request,
        namespace: Scope,
        name: NamePath,
        patch: PatchBody,
        if_match: IfMatch = None,
        dry_run: DryRunQuery = None,
        verbose: VerboseQuery = None,
    ) -> Response:
        pre = parse_preconditions(if_match, None)
        prepared = PreparedObject(info)
        planner = DryRun(request, verbose) if dry_run else None
        _writer(request).patch(
            info, namespace, name, patch, pre, prepared.ignored, prepared, planner
        )
        if planner:
            return planner.response()
        return prepared.response()

    @router.delete(
        path,
        operation_id=f"delete{one}",
        summary=f"Delete a {one}",
        dependencies=WRITER,
        response_model=models.document,
        responses={
            **with_etag(200, "Deleted; ETag is the revision of the deletion"),
            **problem_responses(400, *AUTH, 404, 412),
        },
    )
    def delete_route(
        request: Request,
        namespace: Scope,
        name: NamePath,
        if_match: IfMatch = None,
        dry_run: DryRunQuery = None,
        verbose: VerboseQuery = None,
    ) -> Response:
        pre = parse_preconditions(if_match, None)
        prepared = PreparedObject(info)
        planner = DryRun(request, verbose) if dry_run else None
        _, revision = _writer(request).delete(info, namespace, name, pre, prepared, planner)
        if planner:
            return planner.response(revision=revision)
        return prepared.response()
