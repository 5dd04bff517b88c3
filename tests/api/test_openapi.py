"""The committed REST contract matches the app, and fuzzing it finds no 5xx or schema violation."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import schemathesis.pytest
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance
from schemathesis.config import SchemathesisConfig

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


# What a schema-valid request may still get, because the answer depends on the server's state
# (RFC 9110: preconditions are evaluated before the content is processed, so an invalid body
# under a failing If-Match gets the 412), never on a rule the schema could have stated.
STATE_DEPENDENT = ["404", "409", "412"]
FUZZ_CONFIG: dict[str, Any] = {
    "generation": {"mode": "all", "max-examples": 8},
    "phases": {"stateful": {"enabled": False}},
    # Namespaced writes go to the namespace that exists; names in paths are still generated.
    "parameters": {"path.namespace": "default"},
    "checks": {
        "positive_data_acceptance": {"expected-statuses": ["2xx", "401", "403", *STATE_DEPENDENT]},
        "negative_data_rejection": {
            "expected-statuses": ["400", "401", "403", "404", "405", "409", "412", "413", "422"]
        },
    },
}

# The 422s a schema-valid request may get: rules JSON Schema cannot state (about other objects,
# the server's settings, or relations between values of one document). Each is a precise
# problem naming the field; anything else rejected from positive data is a schema gap.
UNSTATABLE = re.compile(
    "|".join(
        [
            # other objects, the server's settings, opaque cursors
            r"does not exist",
            r"^no (pod|service|node) ",
            r"has no (address|cluster IP|(TCP|UDP|SCTP) port)",
            r"no address of the same IP family",
            r"required for a source outside the cluster",
            r"outside the node port range",
            r"not a continue token",
            # relations between values of one document
            r"host bits set",
            r"duplicate ",
            r"is listed twice",
            r"at most one address per IP family",
            r"at most one per IP family",
            r"at most a third of holdTimeSeconds",
            r"not inside cidr|strict subset of cidr|IP family differs from cidr",
            r"must not be smaller than port|needs a numeric port",
            r"is not a power of two",
            r"needs IPv[46]|IPv[46] backends",
            r"must be 0 when protocol is Any|give a port 1-65535",
            r"dscp: |delivers to the service's pods",
            r"only (LoadBalancer|NodePort and LoadBalancer) services|only with sessionAffinity",
            r"Local needs a NodePort",
            r"every port needs a name",
            r"may not be combined|give nodeSelector, service or addresses|a peer needs",
            r"must be the only entry|needs type ClusterIP",
            r"port: only with service",
            # JSON Schema cannot tell 80.0 from 80; the server refuses the float on purpose
            # (test_limits_and_headers.test_no_lax_coercion)
            r"^Input should be a valid integer$|^must be a port number \(1-65535\) or a port name$",
        ]
    )
)


@schemathesis.check
def positive_data_acceptance_but_unstatable_rules(ctx: Any, response: Any, case: Any) -> None:
    """positive_data_acceptance, which also lets through a 422 whose every error is one of the
    UNSTATABLE rules; and for PATCH any 422, since a merge patch is valid or not according to
    the stored object it merges into."""
    if (
        response.status_code == 422
        and case.meta is not None
        and case.meta.generation.mode.is_positive
    ):
        if case.method.upper() == "PATCH":
            return
        errors = response.json().get("errors") or [{"message": response.json()["detail"]}]
        if all(UNSTATABLE.search(error["message"]) for error in errors):
            return
    positive_data_acceptance(ctx, response, case)


def aligned_with_the_path(case: Any) -> None:
    """A body's metadata.name and metadata.namespace must equal the path's (a rule across two
    parameters, which a schema cannot state): positive cases get them aligned."""
    body = case.body
    if case.meta is None or not case.meta.generation.mode.is_positive or not isinstance(body, dict):
        return
    metadata = body.get("metadata")
    if not isinstance(metadata, dict):
        return
    for field in ("name", "namespace"):
        if metadata.get(field) and field in (case.path_parameters or {}):
            metadata[field] = case.path_parameters[field]


@pytest.fixture
def fuzz_schema(request: pytest.FixtureRequest, fresh_postgres_url: str) -> Any:
    # schemathesis 4.32's from_fixture renames the test node through `_nodeid`, which pytest 9
    # no longer has: give it one.
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid
    config = SchemathesisConfig.from_dict(FUZZ_CONFIG)
    app = fuzzable_app(fresh_postgres_url)
    return schemathesis.openapi.from_asgi("/openapi.json", app, config=config)


# The event stream is not fuzzed: it never ends by design; test_events.py covers it.
fuzzed = schemathesis.pytest.from_fixture("fuzz_schema").exclude(operation_id="watchEvents")


@fuzzed.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_fuzzing_with_every_check_finds_nothing(case: Any) -> None:
    """Every operation (admin token, PostgreSQL): examples, coverage (incl. unsupported methods,
    missing headers) and fuzzing phases, positive and negative data, every per-response check."""
    aligned_with_the_path(case)
    case.call_and_validate(
        headers=AUTH,
        excluded_checks=[positive_data_acceptance],
        additional_checks=[positive_data_acceptance_but_unstatable_rules],
    )


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
