"""RFC 9457 problem details for every error the API returns."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

from ..errors import ApiError, FieldError
from ..representation import field_path
from ..resources.locations import first_per_location

PROBLEM_MEDIA_TYPE = "application/problem+json"
log = logging.getLogger("switchyard.api")


class ProblemFieldError(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[ProblemFieldError] | None = None
    owner: str | None = None
    oldestRevision: int | None = None


_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    409: "Conflict",
    410: "Gone",
    412: "Precondition Failed",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Invalid",
    500: "Internal Server Error",
    503: "Service Unavailable",
}
_DESCRIPTIONS = {
    400: "Malformed request (e.g. invalid JSON)",
    401: "Missing or invalid bearer token",
    403: "The token's role does not allow this",
    404: "No such object",
    409: "Already exists, or conflicts with another object (named in `owner`)",
    410: "The requested revision is older than the retained change log",
    412: "If-Match / If-None-Match / metadata.resourceVersion precondition failed",
    413: "Request body too large",
    422: "Validation failed; `errors` names each field",
}


def problem_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries so that generated SDKs know every error an operation returns."""
    return {
        code: {
            "description": _DESCRIPTIONS.get(code, _TITLES.get(code, "Error")),
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for code in codes
    }


def problem_response(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    instance: str | None = None,
    errors: list[FieldError] | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title or _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = [{"field": e.field, "message": e.message} for e in errors]
    body.update(extra or {})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return problem_response(
            exc.status,
            exc.detail,
            title=exc.title,
            instance=request.url.path,
            errors=exc.errors,
            extra=exc.extra,
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        raw = list(exc.errors())
        if any(err.get("type") == "json_invalid" for err in raw):
            return problem_response(
                400, "request body is not valid JSON", instance=request.url.path
            )
        located = [{**err, "loc": _strip_location(tuple(err["loc"]))} for err in raw]
        errors = [
            FieldError(field_path(loc), message) for loc, message in first_per_location(located)
        ]
        detail = "; ".join(f"{e.field}: {e.message}" for e in errors[:5])
        return problem_response(422, detail, instance=request.url.path, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem_response(
            exc.status_code,
            str(exc.detail),
            instance=request.url.path,
            headers=dict(exc.headers or {}),
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(
            500, "internal error; see the server log", instance=request.url.path
        )


def _strip_location(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    # FastAPI prefixes "body"/"query"/"path"/"header"; the field path is what clients need.
    if loc and loc[0] == "body":
        return loc[1:]
    if loc and loc[0] in ("query", "path", "header"):
        return loc[1:]
    return loc
