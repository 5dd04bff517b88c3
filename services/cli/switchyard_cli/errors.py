"""Errors the CLI reports as one line on stderr (exit code 1), never as a traceback."""

from __future__ import annotations

from typing import Any

import httpx


class ApiError(Exception):
    def __init__(self, status: int, title: str, detail: str = "", fields: list[str] | None = None):
        self.status = status
        self.title = title
        self.detail = detail
        self.fields = fields or []
        super().__init__(self.line())

    def line(self) -> str:
        text = f"{self.title} ({self.status})"
        if self.fields:
            text += ": " + "; ".join(self.fields)
        elif self.detail:
            text += f": {self.detail}"
        return text


def from_response(response: httpx.Response) -> ApiError:
    """The problem+json document of a failed response, condensed."""
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return ApiError(response.status_code, response.reason_phrase or "error", response.text)
    fields = [
        f"{error.get('field')}: {error.get('message')}"
        for error in body.get("errors") or []
        if isinstance(error, dict)
    ]
    if body.get("owner"):
        fields.append(f"owner: {body['owner']}")
    return ApiError(
        response.status_code,
        str(body.get("title") or response.reason_phrase),
        str(body.get("detail") or ""),
        fields,
    )


class Failure(Exception):
    """An error already condensed to one line, with its own exit status: `diff` exits 2 on
    errors because its 1 means "there are differences" (kubectl's convention)."""

    def __init__(self, line: str, code: int) -> None:
        self.code = code
        super().__init__(line)
