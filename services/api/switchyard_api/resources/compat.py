"""Kubernetes fields that Switchyard accepts but does not use.

A manifest copied from Kubernetes carries fields that mean nothing to Switchyard's dataplane
(e.g. a Service's `allocateLoadBalancerNodePorts`). They are declared on the models with
`ignored(...)` so that the schema documents them; on write they are dropped before storage and
named in a `Warning` response header, never silently.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

IGNORED_MARK = "x-switchyard-ignored"


def ignored(description: str = "") -> Any:
    """A field accepted for Kubernetes compatibility and ignored (not stored)."""
    text = "Accepted for Kubernetes compatibility and ignored (named in a Warning header)."
    return Field(
        default=None,
        description=f"{text} {description}".strip(),
        json_schema_extra={IGNORED_MARK: True},
    )


def _is_ignored(model: type[BaseModel], field: str) -> bool:
    extra = model.model_fields[field].json_schema_extra
    return isinstance(extra, dict) and bool(extra.get(IGNORED_MARK))


def strip_ignored(value: Any, path: str) -> list[str]:
    """Clear every ignored field set on a validated model tree (in place); returns the paths
    of those that were set, e.g. `spec.ports[0].appProtocol`."""
    found: list[str] = []
    if isinstance(value, BaseModel):
        model = type(value)
        for field in sorted(value.model_fields_set):
            alias = model.model_fields[field].alias or field
            child = getattr(value, field)
            where = f"{path}.{alias}" if path else alias
            if _is_ignored(model, field):
                if child is not None:
                    found.append(where)
                setattr(value, field, None)
            else:
                found.extend(strip_ignored(child, where))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(strip_ignored(item, f"{path}[{index}]"))
    return found


def warning_header(fields: list[str]) -> str | None:
    """RFC 7234 Warning (code 299, as kube-apiserver sends) naming the ignored fields."""
    if not fields:
        return None
    names = ", ".join(fields)
    text = f"fields accepted and ignored by Switchyard: {names}"
    return '299 - "' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# Kubernetes' own apiVersion of the kinds Switchyard mirrors, accepted besides switchyard.io/v1.
KUBERNETES_API_VERSIONS = {
    "Namespace": "v1",
    "Service": "v1",
    "NetworkPolicy": "networking.k8s.io/v1",
    "EndpointSlice": "discovery.k8s.io/v1",
}
