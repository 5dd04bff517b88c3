"""Per-kind OpenAPI models of the documents (object, input, list)."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from ..explain.model import DryRunPlan
from ..resources.common import API_VERSION, ListMeta, ObjectMeta, ObjectMetaIn, SafeStr
from ..resources.registry import KindInfo


class DocumentModels:
    def __init__(self, info: KindInfo) -> None:
        base: type[BaseModel] = info.spec_model if info.flat else BaseModel
        config = ConfigDict(extra="forbid", strict=True)
        common: dict[str, Any] = {
            "apiVersion": (SafeStr, Field(default=API_VERSION, examples=[API_VERSION])),
            "kind": (SafeStr, Field(default=info.kind, examples=[info.kind])),
        }
        # `spec` may be left out where every field of it is optional (a Namespace).
        optional = all(not f.is_required() for f in info.spec_model.model_fields.values())
        spec_default: Any = Field(default_factory=info.spec_model) if optional else ...
        spec_field: dict[str, Any] = {} if info.flat else {"spec": (info.spec_model, ...)}
        spec_input: dict[str, Any] = {} if info.flat else {"spec": (info.spec_model, spec_default)}
        # Node reports its own status; every other kind carries its convergence status.
        status_model = info.status_model or info.document_status
        server_fields: dict[str, Any] = {
            "status": (status_model | None, None),
            "plan": (DryRunPlan | None, Field(None, description="only with dryRun=All")),
        }
        ignored_status: dict[str, Any] = {
            "status": (dict[str, Any] | None, Field(default=None, description="ignored"))
        }
        if info.flat:
            self.document = create_model(
                info.kind, __base__=base, **common, metadata=(ObjectMeta, ...), **server_fields
            )
            self.input = create_model(
                f"{info.kind}Input",
                __base__=base,
                **common,
                metadata=(ObjectMetaIn, Field(default_factory=ObjectMetaIn)),
                **ignored_status,
            )
        else:
            self.document = create_model(
                info.kind,
                __config__=config,
                **common,
                metadata=(ObjectMeta, ...),
                **spec_field,
                **server_fields,
            )
            self.input = create_model(
                f"{info.kind}Input",
                __config__=config,
                **common,
                metadata=(ObjectMetaIn, Field(default_factory=ObjectMetaIn)),
                **spec_input,
                **ignored_status,
            )
        self.list = create_model(
            f"{info.kind}List",
            __config__=config,
            apiVersion=(str, API_VERSION),
            kind=(str, f"{info.kind}List"),
            metadata=(ListMeta, ...),
            items=(list[self.document], ...),  # type: ignore[name-defined]
        )
