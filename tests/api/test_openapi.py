"""The committed REST contract matches the app, and fuzzing it finds no 5xx or schema violation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance

from switchyard_api.app import create_app
from switchyard_api.auth import BOOTSTRAP_ADMIN_ID, TokenStore
from switchyard_api.resources.registry import NAMESPACE, SERVICE
from switchyard_api.settings import Settings

from .support import ADMIN_TOKEN, AUTH, settings_for

COMMITTED = Path(__file__).resolve().parents[2] / "openapi.json"
REGENERATE = "switchyard-api openapi > openapi.json"


def served_document() -> dict[str, Any]:
    document: dict[str, Any] = create_app(Settings(database_url="sqlite://")).openapi()
    return document


def test_committed_openapi_matches_the_app() -> None:
    committed = json.loads(COMMITTED.read_text())
    assert committed == served_document(), f"openapi.json is stale: run `{REGENERATE}`"


def test_every_operation_has_a_stable_id_and_documents_its_errors() -> None:
    document = served_document()
    seen: set[str] = set()
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            operation_id = operation.get("operationId", "")
            assert operation_id and "_" not in operation_id, (path, method, operation_id)
            assert operation_id not in seen, operation_id
            seen.add(operation_id)
            if path.startswith("/v1/"):
                codes = set(operation["responses"])
                assert {"401", "403"} <= codes, (operation_id, codes)
                for code in codes - {"200", "201", "204"}:
                    content = operation["responses"][code]["content"]
                    assert "application/problem+json" in content, (operation_id, code)
            if method in ("put", "post", "patch"):
                assert {"400", "413", "422"} <= set(operation["responses"]), operation_id


def fuzzable_app(url: str) -> Any:
    app = create_app(settings_for(url))
    TokenStore(app.state.store).ensure(BOOTSTRAP_ADMIN_ID, ADMIN_TOKEN, "admin", "schemathesis")
    # A namespace and a service exist, so that generated namespaced writes can succeed too.
    app.state.writer.create(NAMESPACE, "", {"metadata": {"name": "default"}, "spec": {}})
    app.state.writer.create(
        SERVICE,
        "default",
        {
            "metadata": {"name": "web"},
            "spec": {"clusterIPs": ["10.96.0.10"], "ports": [{"port": 80}]},
        },
    )
    return app


def test_fuzzing_finds_no_server_error_or_schema_violation(fresh_postgres_url: str) -> None:
    """Every operation (with an admin token) against PostgreSQL, positive and negative cases."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzzable_app(fresh_postgres_url))
    failures: dict[str, str] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.definition.raw.get("operationId") == "watchEvents":
            continue  # the stream never ends by design; test_events.py covers it

        @given(case=operation.as_strategy())
        @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
        def check(case: Any) -> None:
            # Positive-data acceptance is left out: the schema cannot express every semantic
            # rule (label-selector grammar, claims), and such input correctly gets a 422.
            case.call_and_validate(headers=AUTH, excluded_checks=[positive_data_acceptance])

        try:
            check()
        except Exception as exc:
            failures[operation.label] = str(exc)[:2000]
    assert not failures, "\n\n".join(f"{label}: {error}" for label, error in failures.items())


def test_etag_headers_and_the_event_stream_are_declared() -> None:
    document = served_document()
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            item = path.endswith(("{name}", "/endpoints")) and "/tokens" not in path
            # POSTs that create an object (/v1/explain answers a question: no object, no ETag)
            creates = path.startswith("/v1/") and not path.startswith(("/v1/tokens", "/v1/explain"))
            created = method == "post" and creates
            if item or created:
                for code in ("200", "201"):
                    if code in operation["responses"]:
                        assert "ETag" in operation["responses"][code]["headers"], (method, path)
    stream = document["paths"]["/v1/events"]["get"]["responses"]["200"]["content"]
    assert stream["text/event-stream"]["x-event-data"] == {
        "$ref": "#/components/schemas/ChangeEvent"
    }
    event = document["components"]["schemas"]["ChangeEvent"]
    assert event["properties"]["type"]["enum"] == ["ADDED", "MODIFIED", "DELETED"]
