"""Domain errors; the HTTP layer turns each into an RFC 9457 problem."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class FieldError:
    field: str
    message: str


@dataclass
class ApiError(Exception):
    status: int
    title: str
    detail: str
    errors: list[FieldError] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.detail


def not_found(what: str) -> ApiError:
    return ApiError(404, "Not Found", f"{what} does not exist")


def already_exists(what: str) -> ApiError:
    return ApiError(409, "Already Exists", f"{what} already exists")


def conflict(detail: str, owner: str) -> ApiError:
    return ApiError(409, "Conflict", detail, extra={"owner": owner})


def precondition_failed(detail: str) -> ApiError:
    return ApiError(412, "Precondition Failed", detail)


def invalid(field_path: str, message: str) -> ApiError:
    return ApiError(
        422,
        "Invalid",
        f"{field_path}: {message}",
        errors=[FieldError(field_path, message)],
    )


def bad_request(detail: str) -> ApiError:
    return ApiError(400, "Bad Request", detail)
