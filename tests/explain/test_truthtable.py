"""Explain's verdict equals the policy truth tables for every probe, and it names the intent:
the isolating policy set for a denied probe, the policy and rule index for an allowed one."""

from __future__ import annotations

from typing import Any

import pytest

from switchyard_api.explain.model import AclStep, Explanation
from tests.compiler.netpol_reference import RefCluster, ports_match
from tests.compiler.test_policy_truthtable import NAMESPACES, PODS, PORTS, PROTOCOLS, SCENARIOS

from .cluster import SERVICES, compile_cluster, explain

NAMES = [f"{ns}/{pod}" for ns in NAMESPACES for pod in PODS]


def _addr(name: str, family: int) -> str:
    from tests.compiler.test_policy_truthtable import ip4, ip6

    ns, pod = name.split("/")
    return ip4(ns, pod) if family == 4 else ip6(ns, pod)


def isolating(reference: RefCluster, policies: list[Any], pod_name: str, kind: str) -> list[str]:
    pod = reference.pod_at(_addr(pod_name, 4))
    assert pod is not None
    specs = [spec for _, spec in reference._policies(pod, kind)]
    return sorted(f"{p.namespace}/{p.name}" for p in policies if any(p.spec is s for s in specs))


def check_intent(
    reference: RefCluster,
    policies: list[Any],
    result: Explanation,
    probe: tuple[str, str, str, int, int],
    allowed: bool,
) -> None:
    src, dst, protocol, port, family = probe
    if src == dst:
        return
    steps = result.paths[0].steps
    if not allowed:
        failing = [s for s in steps + result.paths[0].reply if not s.passed]
        assert len(failing) == 1, (probe, result)
        step = failing[0]
        kind = "Ingress" if step.direction == "output" else "Egress"
        pod = dst if kind == "Ingress" else src
        expected = isolating(reference, policies, pod, kind)
        assert expected, (probe, step)
        assert sorted(step.policies) == expected, (probe, step)
        assert "default deny because policies" in step.intent, (probe, step)
        return
    for step, kind, pod in _pod_steps(steps, src, dst):
        selecting = isolating(reference, policies, pod, kind)
        if not selecting:
            assert "not isolated" in step.intent, (probe, step)
            continue
        if "own node" in step.intent:
            continue
        assert step.policies, (probe, step)
        # every named rule allows this flow on its own, per the reference semantics
        src_pod = reference.pod_at(_addr(src, family))
        dst_pod = reference.pod_at(_addr(dst, family))
        for name, index in zip(step.policies, step.ruleIndices, strict=True):
            assert name in selecting, (probe, step)
            policy = next(p for p in policies if f"{p.namespace}/{p.name}" == name)
            if kind == "Ingress":
                rule = policy.spec.ingress[index]
                ok = reference._peers_match(
                    rule.from_, policy.namespace, src_pod, _addr(src, family)
                ) and ports_match(rule.ports, dst_pod, protocol, port)
            else:
                rule = policy.spec.egress[index]
                ok = reference._peers_match(
                    rule.to, policy.namespace, dst_pod, _addr(dst, family)
                ) and ports_match(rule.ports, dst_pod, protocol, port)
            assert ok, (probe, name, index)


def _pod_steps(steps: list[AclStep], src: str, dst: str) -> list[tuple[AclStep, str, str]]:
    found = []
    for step in steps:
        if step.interface == f"tap-{src.replace('/', '-')}" and step.direction == "input":
            found.append((step, "Egress", src))
        elif step.interface == f"tap-{dst.replace('/', '-')}" and step.direction == "output":
            found.append((step, "Ingress", dst))
    return found


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_explain_verdicts_equal_the_truth_table(scenario: str) -> None:
    policies, _ = SCENARIOS[scenario]
    compiler, intent = compile_cluster(policies)
    reference = RefCluster.from_intent(intent)
    mismatches = []
    for family in (4, 6):
        for src in NAMES:
            for protocol in PROTOCOLS:
                for port in PORTS:
                    s = _addr(src, family)
                    for dst in NAMES:
                        d = _addr(dst, family)
                        body = {"from": {"ip": s}, "to": {"ip": d}, "protocol": protocol}
                        result = explain(compiler, {**body, "port": port})
                        want = reference.allowed(s, d, protocol, port)
                        if (result.verdict == "allowed") != want:
                            mismatches.append((src, dst, protocol, port, family, want))
                            continue
                        probe = (src, dst, protocol, port, family)
                        check_intent(reference, policies, result, probe, want)
                    if port == 53:
                        continue
                    body = {
                        "from": {"ip": s},
                        "to": {"service": SERVICES[family], "port": 8000 + port},
                        "protocol": protocol,
                    }
                    result = explain(compiler, body)
                    assert result.translation is not None
                    assert [b.pod for b in result.translation.backends] == ["z/c"]
                    want = reference.allowed(s, _addr("z/c", family), protocol, port)
                    if (result.verdict == "allowed") != want:
                        mismatches.append((src, "svc", protocol, port, family, want))
    assert mismatches == []
