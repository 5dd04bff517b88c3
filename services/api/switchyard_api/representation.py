"""Stored rows <-> the Kubernetes-shaped documents clients see."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from .errors import ApiError, FieldError
from .resources.common import API_VERSION, StrictModel
from .resources.intent import IntentObject
from .resources.locations import first_per_location
from .resources.registry import KindInfo
from .store.models import StoredObject

FLAT_SPEC_FIELDS = ("addressType", "endpoints", "ports")


def to_document(info: KindInfo, row: StoredObject) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": row.name}
    if info.namespaced:
        metadata["namespace"] = row.namespace
    metadata.update(
        labels=row.labels,
        annotations=row.annotations,
        uid=row.uid,
        resourceVersion=str(row.resource_version),
        creationTimestamp=row.created_at,
    )
    spec = {k: v for k, v in row.spec.items() if k not in info.write_only}
    document: dict[str, Any] = {"apiVersion": API_VERSION, "kind": info.kind, "metadata": metadata}
    if info.flat:
        document.update(spec)
    else:
        document["spec"] = spec
    if info.status_model is not None:
        document["status"] = row.status or info.status_model().model_dump(mode="json")
    elif info.reported_status is not None and row.status:
        document["status"] = dict(row.status)
    return document


def stored_document(info: KindInfo, row: StoredObject) -> dict[str, Any]:
    """Like to_document but keeping write-only fields: the base of a merge patch."""
    document = to_document(info, row)
    if info.flat:
        document.update(row.spec)
    else:
        document["spec"] = dict(row.spec)
    document.pop("status", None)
    return document


def field_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            part = part.rstrip("_") if part.endswith("_") and part != "_" else part
            path += f".{part}" if path else part
    return path or "body"


def validation_problem(exc: ValidationError, prefix: tuple[str, ...] = ()) -> ApiError:
    errors = [
        FieldError(field_path(prefix + loc), message)
        for loc, message in first_per_location(exc.errors())
    ]
    detail = "; ".join(f"{e.field}: {e.message}" for e in errors[:5])
    return ApiError(422, "Invalid", detail, errors=errors)


def validate_spec(info: KindInfo, raw: Any) -> StrictModel:
    try:
        return info.spec_model.model_validate(raw)
    except ValidationError as exc:
        raise validation_problem(exc, () if info.flat else ("spec",)) from None


def spec_to_storage(spec: StrictModel) -> dict[str, Any]:
    return spec.model_dump(mode="json", by_alias=True, exclude_none=True)


def to_intent(info: KindInfo, row: StoredObject) -> IntentObject[Any]:
    return IntentObject(
        kind=info.kind,
        namespace=row.namespace,
        name=row.name,
        spec=info.spec_model.model_validate(row.spec),
        labels=dict(row.labels),
        resource_version=row.resource_version,
    )
