"""Per-kind OpenAPI models of the documents (object, input, list)."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from ..explain.model import DryRunPlan
from ..resources.common import API_VERSION, ListMeta, Name, ObjectMeta, ObjectMetaIn, SafeStr
from ..resources.compat import KUBERNETES_API_VERSIONS
from ..resources.registry import KindInfo


class ClusterObjectMetaIn(ObjectMetaIn):
    """Cluster-scoped kinds take no namespace."""

    namespace: None = None


class CreateObjectMetaIn(ObjectMetaIn):
    """POST takes the name from the body."""

    name: Name


class CreateClusterObjectMetaIn(ClusterObjectMetaIn):
    name: Name


def _metadata_models(info: KindInfo) -> tuple[type[ObjectMetaIn], type[ObjectMetaIn]]:
    """(create, replace) metadata of a kind's input documents."""
    if info.namespaced:
        return CreateObjectMetaIn, ObjectMetaIn
    return CreateClusterObjectMetaIn, ClusterObjectMetaIn


def _type_fields(info: KindInfo) -> dict[str, Any]:
    """apiVersion and kind as the writer accepts them (absent, or these values)."""
    versions = [API_VERSION, *filter(None, [KUBERNETES_API_VERSIONS.get(info.kind)])]
    return {
        "apiVersion": (Literal[tuple(versions)], Field(default=API_VERSION)),
        "kind": (Literal[info.kind], Field(default=info.kind)),
    }


class DocumentModels:
    def __init__(self, info: KindInfo) -> None:
        base: type[BaseModel] = info.spec_model if info.flat else BaseModel
        config = ConfigDict(extra="forbid", strict=True)
        common: dict[str, Any] = {
            "apiVersion": (SafeStr, Field(default=API_VERSION, examples=[API_VERSION])),
            "kind": (SafeStr, Field(default=info.kind, examples=[info.kind])),
        }
        typed = _type_fields(info)
        create_meta, replace_meta = _metadata_models(info)
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
                **typed,
                metadata=(ObjectMetaIn, Field(default_factory=ObjectMetaIn)),
                **ignored_status,
            )
            self.create_input = self.input
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
                **typed,
                metadata=(replace_meta, Field(default_factory=replace_meta)),
                **spec_input,
                **ignored_status,
            )
            self.create_input = create_model(
                f"{info.kind}CreateInput",
                __config__=config,
                **typed,
                metadata=(create_meta, ...),
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
