"""`switchyard`: a small client for the Switchyard REST API."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import httpx

from . import plan_verbs

# kind argument -> (path segment, namespaced)
KINDS: dict[str, tuple[str, bool]] = {
    "namespaces": ("namespaces", False),
    "nodes": ("nodes", False),
    "load-balancers": ("load-balancers", False),
    "bgp-peers": ("bgp-peers", False),
    "pods": ("pods", True),
    "services": ("services", True),
    "network-policies": ("network-policies", True),
}
# "kind" field of a document -> kind argument, for apply
DOCUMENT_KINDS = {
    "Namespace": "namespaces",
    "Node": "nodes",
    "LoadBalancer": "load-balancers",
    "BgpPeer": "bgp-peers",
    "Pod": "pods",
    "Service": "services",
    "NetworkPolicy": "network-policies",
}


def item_path(kind: str, name: str | None, namespace: str) -> str:
    segment, namespaced = KINDS[kind]
    base = f"/v1/namespaces/{namespace}/{segment}" if namespaced else f"/v1/{segment}"
    return f"{base}/{name}" if name else base


def document_path(document: dict[str, Any], default_namespace: str) -> str:
    metadata = document.get("metadata") or {}
    namespace = metadata.get("namespace") or default_namespace
    if document.get("kind") == "EndpointSlice":
        return f"/v1/namespaces/{namespace}/services/{metadata['name']}/endpoints"
    kind = DOCUMENT_KINDS.get(str(document.get("kind")))
    if kind is None:
        raise SystemExit(f"switchyard: unknown kind {document.get('kind')!r}")
    return item_path(kind, metadata["name"], namespace)


def show(response: httpx.Response) -> int:
    try:
        body = response.json()
        print(json.dumps(body, indent=2))
    except ValueError:
        print(response.text)
    return 0 if response.is_success else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="switchyard", description="Switchyard API client")
    parser.add_argument("--api", default=os.environ.get("SWITCHYARD_URL", "http://127.0.0.1:8080"))
    parser.add_argument("--token", default=os.environ.get("SWITCHYARD_USER_TOKEN", ""))
    parser.add_argument("-n", "--namespace", default="default")
    sub = parser.add_subparsers(dest="command", required=True)
    get = sub.add_parser("get", help="list a kind, or read one object")
    get.add_argument("kind", choices=sorted(KINDS))
    get.add_argument("name", nargs="?")
    get.add_argument("-l", "--selector", help="label selector")
    apply = sub.add_parser("apply", help="create or replace the objects in a JSON file")
    apply.add_argument("-f", "--file", required=True, type=Path)
    apply.add_argument(
        "--dry-run", choices=["server"], help="server: validate and plan, store nothing"
    )
    apply.add_argument("-v", "--verbose", action="store_true", help="plan values too")
    diff = sub.add_parser("diff", help="what applying a JSON file would change, per node")
    diff.add_argument("-f", "--file", required=True, type=Path)
    explain = sub.add_parser(
        "explain", help="why a flow is allowed or denied, and where it goes: 'SRC -> DST'"
    )
    explain.add_argument(
        "flow", nargs="+", help="ns/pod | IP[@node]  ->  [svc:|pod:]ns/name:PORT[/PROTO] | IP:PORT"
    )
    explain.add_argument("-o", "--output", choices=["text", "json"], default="text")
    delete = sub.add_parser("delete", help="delete one object")
    delete.add_argument("kind", choices=sorted(KINDS))
    delete.add_argument("name")
    events = sub.add_parser("events", help="follow the change stream")
    events.add_argument("--since", type=int)
    words = sys.argv[1:] if argv is None else argv
    # argparse would take a bare "->" for an option: pass it on as a word it leaves alone
    args = parser.parse_args([plan_verbs.ARROW_WORD if w == "->" else w for w in words])

    headers = {"Authorization": f"Bearer {args.token}"} if args.token else {}
    with httpx.Client(base_url=args.api, headers=headers, timeout=30) as client:
        if args.command == "get":
            params = {"labelSelector": args.selector} if args.selector else None
            return show(client.get(item_path(args.kind, args.name, args.namespace), params=params))
        if args.command == "delete":
            return show(client.delete(item_path(args.kind, args.name, args.namespace)))
        if args.command == "explain":
            try:
                source, target = plan_verbs.split_flow(args.flow)
            except ValueError as exc:
                print(f"switchyard: {exc}", file=sys.stderr)
                return 2
            text, code = plan_verbs.explain(client, source, target, args.output)
            print(text, file=sys.stderr if code == 2 else sys.stdout)
            return code
        if args.command in ("apply", "diff"):
            loaded = json.loads(args.file.read_text())
            documents = loaded if isinstance(loaded, list) else [loaded]

            def put(document: dict[str, Any], params: dict[str, str]) -> httpx.Response:
                path = document_path(document, args.namespace)
                return client.put(path, json=document, params=params)

            if args.command == "diff":
                paths = [document_path(d, args.namespace) for d in documents]
                text, code = plan_verbs.diff(client, put, paths, documents)
                print(text)
                return code
            if args.dry_run == "server":
                text, code = plan_verbs.dry_run(put, documents, args.verbose)
                print(text)
                return code
            status = 0
            for document in documents:
                response = client.put(document_path(document, args.namespace), json=document)
                status |= show(response)
            return status
        params = {"since": args.since} if args.since is not None else None
        with client.stream("GET", "/v1/events", params=params, timeout=None) as response:
            if not response.is_success:
                response.read()
                return show(response)
            for line in response.iter_lines():
                if line.startswith("data: "):
                    print(line[6:], flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
