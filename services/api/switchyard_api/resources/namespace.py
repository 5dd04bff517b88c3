"""Namespace: a scope for pods, services and policies; its labels feed namespaceSelectors."""

from __future__ import annotations

from .common import StrictModel


class NamespaceSpec(StrictModel):
    pass
