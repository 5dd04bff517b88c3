"""GET /v1/events: the change log as Server-Sent Events, replayed from a revision, then followed."""

import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from ..auth import require
from ..errors import ApiError, invalid
from ..store.feed import ChangeFeed
from ..store.store import IntentStore
from .problems import problem_responses

router = APIRouter(tags=["Events"])
CHANGE_EVENT = {
    "title": "ChangeEvent",
    "type": "object",
    "required": ["revision", "type", "kind", "namespace", "name"],
    "properties": {
        "revision": {"type": "integer", "minimum": 1},
        "type": {"type": "string", "enum": ["ADDED", "MODIFIED", "DELETED"]},
        "kind": {"type": "string"},
        "namespace": {"type": "string", "description": "empty for cluster-scoped kinds"},
        "name": {"type": "string"},
    },
    "additionalProperties": False,
}
POLL_SECONDS = 1.0  # bounds the delay when a notification from another replica was lost
KEEPALIVE_SECONDS = 15.0
MAX_REVISION = 2**63 - 1  # PostgreSQL bigint


def _start_revision(store: IntentStore, since: int | None, last_event_id: str | None) -> int:
    if last_event_id is not None:
        if not last_event_id.strip().isdigit() or int(last_event_id) > MAX_REVISION:
            raise invalid("Last-Event-ID", "must be a revision number")
        return int(last_event_id)
    if since is not None:
        return since
    return store.current_revision()


@router.get(
    "/v1/events",
    operation_id="watchEvents",
    summary="Stream changes after a revision (Server-Sent Events)",
    dependencies=[Depends(require("reader"))],
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "Server-Sent Events: per change, `id:` the revision and `data:` one "
            "JSON ChangeEvent; comment lines (`:`) keep the stream alive",
            "content": {
                "text/event-stream": {
                    "schema": {"type": "string"},
                    # the JSON of each event's `data:` (components/schemas/ChangeEvent)
                    "x-event-data": {"$ref": "#/components/schemas/ChangeEvent"},
                }
            },
        },
        **problem_responses(401, 403, 410, 422),
    },
)
async def watch_events(
    request: Request,
    since: Annotated[
        int | None, Query(ge=0, le=MAX_REVISION, description="replay changes after this revision")
    ] = None,
    last_event_id: Annotated[
        str | None, Header(description="resume after this event id (a revision)")
    ] = None,
) -> StreamingResponse:
    store: IntentStore = request.app.state.store
    feed: ChangeFeed = request.app.state.feed
    start = await run_in_threadpool(_start_revision, store, since, last_event_id)
    floor = await run_in_threadpool(store.compacted_revision)
    if start < floor:
        raise ApiError(
            410,
            "Gone",
            f"revision {start} is older than the retained change log; "
            f"resume from {floor} or later (after a fresh list)",
            extra={"oldestRevision": floor + 1},
        )
    return StreamingResponse(
        _stream(request, store, feed, start),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _stream(
    request: Request, store: IntentStore, feed: ChangeFeed, cursor: int
) -> AsyncIterator[str]:
    idle = 0.0
    yield ": stream open\n\n"
    while not await request.is_disconnected():
        rows = await run_in_threadpool(store.changes_after, cursor, 500)
        for row in rows:
            payload = {
                "revision": row.revision,
                "type": row.operation,
                "kind": row.kind,
                "namespace": row.namespace,
                "name": row.name,
            }
            yield f"id: {row.revision}\ndata: {json.dumps(payload)}\n\n"
            cursor = row.revision
        if rows:
            idle = 0.0
            continue
        if not await feed.wait(POLL_SECONDS):
            idle += POLL_SECONDS
            if idle >= KEEPALIVE_SECONDS:
                idle = 0.0
                yield ": keepalive\n\n"
