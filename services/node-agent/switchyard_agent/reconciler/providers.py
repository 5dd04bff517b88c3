"""Keys a desired object brings into being: a pod tap provides `vpp-interface/tap0`. A
dependency on a provided key is ordered after, and waits for, its provider, so the cnat
feature of a pod's interface is enabled right after the agent itself created the tap.

A descriptor opts in with `provides(value) -> Iterable[str]`."""

from __future__ import annotations

from collections.abc import Container
from typing import Any


class Providers:
    def __init__(self) -> None:
        self._by_provided: dict[str, str] = {}  # provided key -> the provider's key

    def note(self, key: str, descriptor: Any, value: object) -> None:
        provides = getattr(descriptor, "provides", None)
        if provides is not None:
            for provided in provides(value):
                self._by_provided[provided] = key

    def resolve(self, dep: str, desired: Container[str]) -> str:
        """The key to wait for instead of `dep`: its provider while that is desired."""
        provider = self._by_provided.get(dep)
        return provider if provider is not None and provider in desired else dep
