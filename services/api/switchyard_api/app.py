"""Builds the FastAPI application: store, routes, middleware, background listeners."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi_offline import FastAPIOffline

from . import __version__
from .auth import BOOTSTRAP_ADMIN_ID, TokenStore
from .cluster_ips import ClusterIPAllocator, parse_service_cidrs
from .distribution.runtime import start_distribution
from .http import (
    access_log,
    crud,
    docs_policy,
    events,
    explain,
    health,
    pod_status,
    query_params,
    status,
    tokens,
)
from .http.headers import SecurityHeaders
from .http.limits import BodySizeLimit
from .http.methods import AllowedMethods
from .http.problems import Problem, install_handlers, problem_responses
from .metrics import ApiMetrics
from .resources.registry import ALL_KINDS
from .settings import Settings
from .store.db import create_store_engine, is_postgres, schema_problem
from .store.feed import ChangeFeed, listen_for_commits
from .store.store import IntentStore
from .store.transaction import Change
from .writes import IntentWriter

log = logging.getLogger("switchyard.api")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    engine = create_store_engine(settings.database_url)
    store = IntentStore(engine, event_retention=settings.event_retention)
    feed = ChangeFeed()
    metrics = ApiMetrics()

    def after_commit(changes: list[Change]) -> None:
        metrics.revision.set(changes[-1].revision)
        feed.publish(changes[-1].revision)

    store.on_commit.append(after_commit)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        feed.attach(asyncio.get_running_loop())
        if settings.admin_token:
            problem = schema_problem(engine)
            if problem is None:
                TokenStore(store).ensure(
                    BOOTSTRAP_ADMIN_ID, settings.admin_token, "admin", "from SWITCHYARD_ADMIN_TOKEN"
                )
            else:  # /readyz reports it; `serve` refuses to start in this state anyway
                log.warning("admin token not bootstrapped: %s", problem)
        distribution = (
            await start_distribution(app, settings, store, feed) if settings.distribution else None
        )
        listener: asyncio.Task[None] | None = None
        if is_postgres(engine) and settings.notify_listen:
            conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
            listener = asyncio.create_task(listen_for_commits(conninfo, feed))
        try:
            yield
        finally:
            if distribution is not None:
                await distribution.stop()
            if listener is not None:
                listener.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await listener
            await asyncio.to_thread(store.close)  # the group-commit writer finishes its batch
            engine.dispose()

    # /docs and /redoc load Swagger UI and ReDoc from the installed package, never from a CDN:
    # this runs in air-gapped networks.
    app = FastAPIOffline(
        static_url="/docs/assets",
        swagger_ui_parameters={"validatorUrl": None},  # no badge from validator.swagger.io
        title="Switchyard API",
        version=__version__,
        description=(
            "Intent API of Switchyard, a control plane for FD.io VPP and GoBGP. Objects are "
            "Kubernetes-shaped; every write gets a global revision; errors are RFC 9457 "
            "problem details."
        ),
        lifespan=lifespan,
        dependencies=[Depends(query_params.known_query_parameters)],
    )
    app.state.settings = settings
    app.state.store = store
    app.state.feed = feed
    app.state.metrics = metrics
    app.state.tokens = TokenStore(store)
    feed.on_revocation.append(app.state.tokens.forget)
    app.state.writer = IntentWriter(
        store, settings.node_ports, ClusterIPAllocator(parse_service_cidrs(settings.service_cidrs))
    )
    install_handlers(app)
    app.add_middleware(docs_policy.SameOriginOnly)
    app.add_middleware(access_log.AccessLog, metrics=metrics)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(AllowedMethods, routes=app.router.routes)
    app.add_middleware(SecurityHeaders)  # outermost: also on 413s and 503s
    app.include_router(health.router)
    for info in ALL_KINDS:
        app.include_router(crud.kind_router(info))
    app.include_router(pod_status.router)
    app.include_router(events.router)
    app.include_router(status.router)
    app.include_router(explain.router)
    app.include_router(tokens.router)
    app.openapi = lambda: openapi_document(app)  # type: ignore[method-assign]
    return app


def openapi_document(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(problem.pop("$defs", {}))
        components["Problem"] = problem
        components["ChangeEvent"] = events.CHANGE_EVENT  # data of each /v1/events event
        _validation_errors_are_problems(schema)
        _outages_are_documented(schema)
        app.openapi_schema = schema
    return app.openapi_schema


def _outages_are_documented(schema: dict[str, Any]) -> None:
    """Every /v1 operation answers 503 while the database is unreachable."""
    unavailable = problem_responses(503)[503]
    for path, methods in schema.get("paths", {}).items():
        if path.startswith("/v1/"):
            for operation in methods.values():
                operation.setdefault("responses", {}).setdefault("503", unavailable)


def _validation_errors_are_problems(schema: dict[str, Any]) -> None:
    """FastAPI documents its own 422 shape on every operation with parameters; ours is a
    problem+json document, so say so (generated SDKs parse errors by this)."""
    problem = problem_responses(422)[422]
    for methods in schema.get("paths", {}).values():
        for operation in methods.values():
            responses = operation.get("responses", {})
            if "422" in responses and "application/json" in responses["422"].get("content", {}):
                responses["422"] = problem
    components = schema.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
