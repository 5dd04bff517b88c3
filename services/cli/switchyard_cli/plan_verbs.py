"""The answers of POST /v1/explain (`switchyard explain`) and the per-node plan of dryRun=All
writes (`apply --dry-run=server`, `diff`), rendered for a terminal.

Free of click: explain takes an httpx.Client and its arguments and returns (text, exit
status); render_plan takes the `plan` of a dry-run answer.
"""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Any

import httpx

Result = tuple[str, int]
TARGET = re.compile(
    r"^(?:(?P<kind>pod|svc|service):)?(?P<what>.+?):(?P<port>\d+)(?:/(?P<proto>\w+))?$"
)


def parse_source(text: str) -> dict[str, str]:
    """ "ns/pod", "IP" or "IP@node" (an address outside the cluster entering that node)."""
    address, _, node = text.partition("@")
    try:
        ip = str(ipaddress.ip_address(address.strip("[]")))
    except ValueError:
        if "/" not in text:
            raise ValueError(f"source {text!r}: give namespace/pod or an IP address") from None
        return {"pod": text.removeprefix("pod:")}
    return {"ip": ip, **({"node": node} if node else {})}


def parse_target(text: str) -> tuple[dict[str, Any], str, int, str]:
    """ "[svc:|pod:]ns/name:PORT[/PROTO]" or "IP:PORT[/PROTO]" -> (to, kind, port, protocol)."""
    found = TARGET.match(text)
    if found is None:
        raise ValueError(f"destination {text!r}: give ns/name:PORT[/PROTO] or IP:PORT[/PROTO]")
    what, port = found["what"], int(found["port"])
    protocol = (found["proto"] or "TCP").upper()
    try:
        return {"ip": str(ipaddress.ip_address(what.strip("[]")))}, "ip", port, protocol
    except ValueError:
        pass
    if found["kind"] == "pod":
        return {"pod": what}, "pod", port, protocol
    # ns/name without a prefix: a service, or else a pod (explain() retries)
    return {"service": what}, "service" if found["kind"] else "guess", port, protocol


ARROW_WORD = "to"  # `SRC -> DST`, `SRC to DST` and `SRC DST` are the same flow


def split_flow(words: list[str]) -> tuple[str, str]:
    """`SRC -> DST` (quote the arrow in a shell: > redirects), `SRC to DST` or `SRC DST`."""
    joined = " ".join(words).replace("->", " ")
    parts = [p for p in joined.split() if p != ARROW_WORD]
    if len(parts) != 2:
        raise ValueError("give a flow as SOURCE -> DESTINATION")
    return parts[0], parts[1]


def explain(client: httpx.Client, source: str, target: str, output: str = "text") -> Result:
    try:
        src = parse_source(source)
        to, kind, port, protocol = parse_target(target)
    except ValueError as exc:
        return f"switchyard: {exc}", 2
    body: dict[str, Any] = {"from": src, "to": to, "protocol": protocol, "port": port}
    response = client.post("/v1/explain", json=body)
    if kind == "guess" and response.status_code == 422 and '"to.service"' in response.text:
        body["to"] = {"pod": to["service"]}  # ns/name is not a service: try the pod
        response = client.post("/v1/explain", json=body)
    if not response.is_success:
        return _problem(response), 1
    answer = response.json()
    if output == "json":
        return json.dumps(answer, indent=2), 0
    return render_explanation(answer), 0 if answer["verdict"] == "allowed" else 3


def render_explanation(answer: dict[str, Any]) -> str:
    src = answer["source"]
    who = f"{src['pod']} ({src['ip']} on {src['node']})" if src.get("pod") else src["ip"]
    lines = [f"flow {who} -> {answer['destination']} port {answer['port']}/{answer['protocol']}"]
    translation = answer.get("translation")
    if translation:
        lines.append(
            f"translation on {translation['node']}: {translation['key']} ({translation['kind']}"
            f", service {translation['service']}, affinity {translation['affinity']}"
            + (", local endpoints only" if translation["localOnly"] else "")
            + ")"
        )
        for backend in translation["backends"]:
            where = f"pod {backend['pod']}" if backend.get("pod") else "address"
            state = "chosen" if backend["chosen"] else "draining (not used by cnat)"
            lines.append(
                f"  backend {backend['address']}:{backend['port']}  {where} on "
                f"{backend.get('node') or 'no node'}  {state}"
            )
    elif answer.get("noTranslation"):
        lines.append(answer["noTranslation"])
    for path in answer["paths"]:
        dst = path["destination"]
        name = f" ({dst['pod']} on {dst['node']})" if dst.get("pod") else ""
        lines.append(f"to {dst['ip']}:{path['port']}{name}: {path['verdict'].upper()}")
        if path.get("note"):
            lines.append(f"  {path['note']}")
        lines += [_step(s) for s in path["steps"]]
        lines += [_step(s, "reply ") for s in path["reply"]]
    lines.append(f"verdict: {answer['verdict']}")
    return "\n".join(lines)


def _step(step: dict[str, Any], prefix: str = "") -> str:
    where = f"{step['node']} {step['interface']} {step['direction']}"
    rule = f" acl {step['acl']} rule {step['ruleIndex']}" if step.get("acl") else ""
    return f"  {prefix}{where}: {step['action']}{rule} - {step['intent']}"


# -- the plan of a dryRun=All write ---------------------------------------------------------


def render_plan(plan: dict[str, Any], verbose: bool) -> str:
    """Per node the keys that would be added (+), changed (~) and removed (-), with counts;
    verbose: each key's before/after values (the server sends them with ?verbose)."""
    counts = plan["counts"]
    lines = []
    for node, entry in plan["nodes"].items():
        c = entry["counts"]
        lines.append(
            f"  node {node}: {c['added']} added, {c['changed']} changed, {c['removed']} removed"
        )
        for mark, what in (("+", "added"), ("~", "changed"), ("-", "removed")):
            for key in entry[what]:
                lines.append(f"    {mark} {key}")
                if verbose:
                    value = entry["values"][key]
                    lines += [
                        f"        {line}" for line in json.dumps(value, indent=2).splitlines()
                    ]
    lines.append(
        f"  plan: {counts['nodes']} nodes, {counts['added']} added, {counts['changed']} changed, "
        f"{counts['removed']} removed (relative to compiled revision {plan['compiledRevision']})"
    )
    return "\n".join(lines)


def _problem(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"switchyard: HTTP {response.status_code}: {response.text}"
    return f"switchyard: {body.get('title', response.status_code)}: {body.get('detail', body)}"
