"""Reading `-f FILE|DIR|-`: YAML or JSON, several documents per file, lists expanded."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .kinds import Kind, UsageError, of_document

SUFFIXES = (".yaml", ".yml", ".json")
Ref = tuple[str, str, str]  # document kind, namespace ("" when cluster-wide), name


@dataclass(frozen=True)
class Manifest:
    source: str  # "file.yaml#2": where it came from, for messages
    document: dict[str, Any]
    kind: Kind
    name: str
    namespace: str

    @property
    def path(self) -> str:
        return self.kind.item(self.name, self.namespace)

    @property
    def label(self) -> str:
        return f"{self.kind.kind.lower()}/{self.name}"

    @property
    def ref(self) -> Ref:
        return (self.kind.kind, self.namespace, self.name)

    def needs(self) -> list[Ref]:
        """The objects the server requires to exist before it takes this one (the references
        it checks): the namespace, an EndpointSlice's service, a LoadBalancer's backend
        service's namespace."""
        found: list[Ref] = [("Namespace", "", self.namespace)] if self.namespace else []
        if self.kind.via_service:
            found.append(("Service", self.namespace, self.name))
        backends = (self.document.get("spec") or {}).get("backends")
        service = backends.get("service") if isinstance(backends, dict) else None
        if self.kind.kind == "LoadBalancer" and isinstance(service, dict):
            found.append(("Namespace", "", str(service.get("namespace"))))
        return found


def sources(paths: tuple[str, ...]) -> list[tuple[str, str]]:
    """(name, text) of every file given; a directory gives its YAML/JSON files in order."""
    found: list[tuple[str, str]] = []
    for given in paths:
        if given == "-":
            found.append(("<stdin>", sys.stdin.read()))
            continue
        path = Path(given)
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.suffix in SUFFIXES and p.is_file())
            if not files:
                raise UsageError(f"{given}: no .yaml, .yml or .json files")
        else:
            files = [path]
        for file in files:
            try:
                found.append((str(file), file.read_text()))
            except OSError as exc:
                raise UsageError(f"{file}: {exc.strerror}") from None
    return found


def documents(name: str, text: str) -> list[dict[str, Any]]:
    try:
        loaded = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise UsageError(f"{name}:{where} not YAML or JSON: {problem}") from None
    expanded: list[Any] = []
    for item in loaded:
        if isinstance(item, list):
            expanded.extend(item)
        elif isinstance(item, dict) and str(item.get("kind", "")).endswith("List"):
            expanded.extend(item.get("items") or [])
        else:
            expanded.append(item)
    for index, item in enumerate(expanded):
        if not isinstance(item, dict):
            raise UsageError(f"{name}: document {index + 1} is not an object")
    return expanded


def load(paths: tuple[str, ...], default_namespace: str) -> list[Manifest]:
    manifests: list[Manifest] = []
    for name, text in sources(paths):
        for index, document in enumerate(documents(name, text), start=1):
            source = f"{name}#{index}"
            kind = of_document(document, source)
            metadata = document.get("metadata")
            if not isinstance(metadata, dict) or not isinstance(metadata.get("name"), str):
                raise UsageError(f"{source}: metadata.name is required")
            namespace = metadata.get("namespace") or default_namespace
            if not kind.namespaced:
                namespace = ""
            manifests.append(Manifest(source, document, kind, metadata["name"], str(namespace)))
    if not manifests:
        raise UsageError("no objects in " + ", ".join(paths))
    return manifests
