"""Command-line flags, each with a SWITCHYARD_* (or KUBECONFIG) environment equivalent."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    switchyard_url: str = "http://127.0.0.1:8080"
    token: str = ""
    kubeconfig: str | None = None
    context: str | None = None
    once: bool = False
    dry_run: bool = False
    listen: str = "127.0.0.1:9102"
    uplink_interface: str = ""
    bgp_asn: int | None = None
    resync_seconds: float = 300.0
    watch_timeout_seconds: int = 300
    events: bool = True
    log_level: str = "info"


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="switchyard-kube",
        description="Mirror a Kubernetes cluster's Namespaces, Nodes, Pods, Services, "
        "EndpointSlices and NetworkPolicies into Switchyard.",
    )
    p.add_argument(
        "--switchyard-url",
        default=_env("SWITCHYARD_URL", Settings.switchyard_url),
        help="Switchyard REST API (SWITCHYARD_URL)",
    )
    p.add_argument(
        "--token-file",
        default=_env("SWITCHYARD_TOKEN_FILE"),
        help="file holding a writer token (SWITCHYARD_TOKEN_FILE; or SWITCHYARD_TOKEN)",
    )
    p.add_argument(
        "--kubeconfig",
        default=None,
        help="kubeconfig file (default: $KUBECONFIG, ~/.kube/config, in-cluster)",
    )
    p.add_argument(
        "--context",
        default=_env("SWITCHYARD_KUBE_CONTEXT") or None,
        help="kubeconfig context (SWITCHYARD_KUBE_CONTEXT)",
    )
    p.add_argument(
        "--once",
        action="store_true",
        default=_env("SWITCHYARD_KUBE_ONCE") == "1",
        help="one LIST of every kind and one reconcile, then exit with a summary",
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        default=_env("SWITCHYARD_KUBE_DRY_RUN") == "1",
        help="print the create/update/delete plan and change nothing (implies --once)",
    )
    p.add_argument(
        "--listen",
        default=_env("SWITCHYARD_KUBE_LISTEN", Settings.listen),
        help="address of /healthz and /metrics (SWITCHYARD_KUBE_LISTEN)",
    )
    p.add_argument(
        "--uplink-interface",
        default=_env("SWITCHYARD_KUBE_UPLINK_INTERFACE"),
        help="VPP uplink of nodes without a switchyard.io/uplink-interface annotation",
    )
    p.add_argument(
        "--bgp-asn",
        type=int,
        default=int(_env("SWITCHYARD_KUBE_BGP_ASN") or 0) or None,
        help="BGP AS of nodes without a switchyard.io/bgp-asn annotation",
    )
    p.add_argument(
        "--resync-seconds",
        type=float,
        default=float(_env("SWITCHYARD_KUBE_RESYNC_SECONDS") or 300),
        help="re-read Switchyard and retry refused objects this often",
    )
    p.add_argument(
        "--watch-timeout-seconds",
        type=int,
        default=int(_env("SWITCHYARD_KUBE_WATCH_TIMEOUT_SECONDS") or 300),
        help="server-side timeout of each watch request",
    )
    p.add_argument(
        "--no-events",
        action="store_true",
        default=_env("SWITCHYARD_KUBE_EVENTS", "1") == "0",
        help="do not post Kubernetes Events for refused objects",
    )
    p.add_argument("--log-level", default=_env("SWITCHYARD_LOG_LEVEL", "info"))
    return p


def from_args(argv: list[str] | None = None) -> Settings:
    p = parser()
    args = p.parse_args(argv)
    token = _env("SWITCHYARD_TOKEN")
    if args.token_file:
        try:
            token = Path(args.token_file).read_text().strip()
        except OSError as exc:
            p.error(f"--token-file: {exc.strerror}")
    if not token:
        p.error("a Switchyard writer token is needed: --token-file or SWITCHYARD_TOKEN")
    return Settings(
        switchyard_url=args.switchyard_url,
        token=token,
        kubeconfig=args.kubeconfig,
        context=args.context,
        once=args.once or args.dry_run,
        dry_run=args.dry_run,
        listen=args.listen,
        uplink_interface=args.uplink_interface,
        bgp_asn=args.bgp_asn,
        resync_seconds=args.resync_seconds,
        watch_timeout_seconds=args.watch_timeout_seconds,
        events=not args.no_events,
        log_level=args.log_level,
    )
