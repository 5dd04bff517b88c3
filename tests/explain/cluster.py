"""The policy truth-table cluster (tests/compiler/test_policy_truthtable.py) compiled by the
whole compiler, with a real Service in front of z/c, for explain tests."""

from __future__ import annotations

from typing import Any

from switchyard_api.compiler.engine import Compiler
from switchyard_api.compiler.part import IntentChange
from switchyard_api.explain.flow import explain_flow
from switchyard_api.explain.model import Explanation
from switchyard_api.explain.request import FlowRequest
from tests.compiler.factories import endpoint, make_endpoints, make_service
from tests.compiler.test_policy_truthtable import VIP4, VIP6, base_intent, ip4, ip6

# One service per family (an EndpointSlice holds one address family): 808x -> 8x, TCP and UDP.
SERVICES = {4: "z/svc", 6: "z/svc6"}


def service_objects() -> list[Any]:
    ports = [
        {"name": f"p{port}-{proto.lower()}", "port": 8000 + port, "targetPort": port}
        | {"protocol": proto}
        for port in (80, 81)
        for proto in ("TCP", "UDP")
    ]
    objects: list[Any] = []
    for name, vip, address, kind in (
        ("svc", VIP4, ip4("z", "c"), "IPv4"),
        ("svc6", VIP6, ip6("z", "c"), "IPv6"),
    ):
        objects.append(make_service(name, [vip], ports, namespace="z"))
        objects.append(
            make_endpoints(name, [endpoint(address, pod="c")], namespace="z", address_type=kind)
        )
    return objects


def compile_cluster(policies: list[Any]) -> tuple[Compiler, list[Any]]:
    intent = base_intent() + service_objects() + policies
    compiler = Compiler()
    compiler.apply(IntentChange(obj.ref, obj) for obj in intent)
    return compiler, intent


def explain(compiler: Compiler, body: dict[str, Any]) -> Explanation:
    return explain_flow(compiler, FlowRequest.model_validate(body))
