"""The kinds the CLI knows: the names a user types, their REST paths, their document kinds."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    kind: str  # the document's "kind"
    plural: str  # path segment
    namespaced: bool
    aliases: tuple[str, ...]
    # EndpointSlice has no collection: it is the `endpoints` subresource of its Service.
    via_service: bool = False

    def collection(self, namespace: str | None) -> str:
        if self.via_service:
            raise UsageError("endpoint slices are listed through their service: get services")
        if self.namespaced:
            if namespace is None:  # -A
                raise UsageError(f"{self.plural} across all namespaces: list each namespace")
            return f"/v1/namespaces/{namespace}/{self.plural}"
        return f"/v1/{self.plural}"

    def item(self, name: str, namespace: str) -> str:
        if self.via_service:
            return f"/v1/namespaces/{namespace}/services/{name}/endpoints"
        if self.namespaced:
            return f"/v1/namespaces/{namespace}/{self.plural}/{name}"
        return f"/v1/{self.plural}/{name}"


class UsageError(Exception):
    """A mistake in the command line or a manifest: one line, exit code 1."""


KINDS = (
    Kind("Namespace", "namespaces", False, ("namespace", "ns")),
    Kind("Node", "nodes", False, ("node", "no")),
    Kind("LoadBalancer", "load-balancers", False, ("load-balancer", "loadbalancer", "lb")),
    Kind("BgpPeer", "bgp-peers", False, ("bgp-peer", "bgppeer", "peer")),
    Kind("Pod", "pods", True, ("pod", "po")),
    Kind("Service", "services", True, ("service", "svc")),
    Kind("EndpointSlice", "endpoints", True, ("endpointslice", "endpointslices", "ep"), True),
    Kind("NetworkPolicy", "network-policies", True, ("network-policy", "networkpolicy", "netpol")),
)
BY_NAME = {name: kind for kind in KINDS for name in (kind.plural, kind.kind.lower(), *kind.aliases)}
BY_DOCUMENT_KIND = {kind.kind: kind for kind in KINDS}
NAMES = sorted(BY_NAME)


def lookup(name: str) -> Kind:
    kind = BY_NAME.get(name.lower())
    if kind is None:
        raise UsageError(f"unknown kind {name!r} (one of: {', '.join(k.plural for k in KINDS)})")
    return kind


def of_document(document: dict[str, object], source: str) -> Kind:
    kind = BY_DOCUMENT_KIND.get(str(document.get("kind")))
    if kind is None:
        raise UsageError(f"{source}: unknown kind {document.get('kind')!r}")
    return kind


def split_reference(reference: str, name: str | None) -> tuple[Kind, str | None]:
    """`KIND NAME` or `KIND/NAME`, as kubectl takes them."""
    kind_name, slash, rest = reference.partition("/")
    if slash:
        if name is not None:
            raise UsageError(f"give either {reference} or a name, not both")
        return lookup(kind_name), rest or None
    return lookup(kind_name), name
