"""A write's response body, rendered inside its transaction.

The writer calls `PreparedObject` before it commits: when the body cannot be built (an object
that cannot be encoded, a bug in the representation), the exception rolls the write back, so
no write ever commits and then answers 5xx.
"""

from __future__ import annotations

import json

from fastapi.responses import Response

from ..representation import to_document
from ..resources.compat import warning_header
from ..resources.registry import KindInfo
from ..store.models import StoredObject
from .preconditions import etag


class PreparedObject:
    def __init__(self, info: KindInfo) -> None:
        self.info = info
        self.body: bytes | None = None
        self.revision = 0
        self.ignored: list[str] = []  # accepted but unused fields, named in a Warning header

    def __call__(self, row: StoredObject, revision: int) -> None:
        document = to_document(self.info, row)
        document["metadata"]["resourceVersion"] = str(revision)
        # The same rendering as JSONResponse, done now so that a failure undoes the write.
        self.body = json.dumps(
            document, ensure_ascii=False, allow_nan=False, separators=(",", ":")
        ).encode("utf-8")
        self.revision = revision

    def response(self, status: int = 200) -> Response:
        if self.body is None:
            raise RuntimeError("the writer committed without rendering the response")
        return Response(
            self.body,
            status_code=status,
            media_type="application/json",
            headers=self._headers(),
        )

    def _headers(self) -> dict[str, str]:
        headers = {"ETag": etag(self.revision)}
        warning = warning_header(self.ignored)
        if warning is not None:
            headers["Warning"] = warning
        return headers
