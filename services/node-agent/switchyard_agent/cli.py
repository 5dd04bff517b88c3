"""`switchyard-agent`: the node agent.

    switchyard-agent --api HOST:PORT [--api HOST:PORT ...] --node NAME --token TOKEN [options]

Every option can also come from the environment as SWITCHYARD_<OPTION> (e.g. SWITCHYARD_NODE,
SWITCHYARD_TLS_CA); a flag wins over the environment. Exit status 2 for bad settings or a
driver that cannot be loaded; 0 after SIGTERM/SIGINT (the dataplane keeps its configuration).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from typing import Any

from pydantic import ValidationError

from . import __version__, logs
from .settings import AgentSettings

_EPILOG = """\
Every option can also be set in the environment as SWITCHYARD_<OPTION>, e.g. SWITCHYARD_API,
SWITCHYARD_NODE, SWITCHYARD_TOKEN, SWITCHYARD_TLS_CA, SWITCHYARD_DRIVERS; flags win.
On start the agent applies the configuration persisted in --state-dir before it connects
(fail static), and reconnects with exponential backoff and jitter while the API is away.
With several --api addresses (repeat the flag, or a comma list) it holds one stream at a
time and fails over to the next address when a replica goes away, resuming by delta.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="switchyard-agent",
        description="Switchyard node agent: applies the API's configuration to VPP and GoBGP.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("--version", action="version", version=f"switchyard-agent {__version__}")
    add(
        "--api",
        metavar="HOST:PORT",
        action="append",
        help="an API replica's gRPC endpoint (required); repeat it or give a comma list for "
        "several replicas; dns:///NAME:PORT for a name that resolves to several",
    )
    add("--node", metavar="NAME", help="this node's name, a node resource of the API (required)")
    add("--token", metavar="TOKEN", help="the node's bearer token (required unless mTLS)")
    add("--token-file", metavar="PATH", help="read the token from a file instead")
    add("--tls-ca", metavar="PATH", help="CA bundle of the API's certificate; enables TLS")
    add("--tls-cert", metavar="PATH", help="client certificate for mTLS (with --tls-key)")
    add("--tls-key", metavar="PATH", help="client private key for mTLS")
    add(
        "--state-dir",
        metavar="DIR",
        help="where the last applied configuration is kept (default /var/lib/switchyard-agent)",
    )
    add(
        "--metrics-listen",
        metavar="HOST:PORT",
        help='/healthz and /metrics address, or "off" (default 127.0.0.1:9100)',
    )
    add(
        "--drivers",
        metavar="LIST",
        help='comma list of vpp, gobgp; or "recording" (in memory, for tests and demos); '
        "default vpp,gobgp",
    )
    add("--vpp-api-socket", metavar="PATH", help="VPP's API socket (default /run/vpp/api.sock)")
    add(
        "--cni-socket",
        metavar="PATH",
        help="serve switchyard-cni on this unix socket, e.g. /run/switchyard/cni.sock; "
        'default "off"',
    )
    add("--gobgp-api", metavar="HOST:PORT", help="GoBGP's gRPC API (default 127.0.0.1:50051)")
    add(
        "--allow-ipv6-frontends",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="program IPv6 service frontends (cnat has IPv6 bugs in VPP 26.10; default off)",
    )
    add("--reconnect-backoff-min", metavar="SECONDS", type=float, help="default 0.5")
    add("--reconnect-backoff-max", metavar="SECONDS", type=float, help="default 30")
    add("--status-interval", metavar="SECONDS", type=float, help="default 10")
    add(
        "--probe-interval",
        metavar="SECONDS",
        type=float,
        help="how often VPP/GoBGP are checked for a restart (default 2)",
    )
    add("--log-level", metavar="LEVEL", help="debug, info, warning, error (default info)")
    add("--log-format", choices=["text", "json"], help="text or json lines (default text)")
    return parser


def _describe(error: Any) -> str:
    loc = error.get("loc") or ()
    if not loc:
        return str(error.get("msg", "invalid settings")).removeprefix("Value error, ")
    name = str(loc[0])
    flag = "--" + name.replace("_", "-")
    env = "SWITCHYARD_" + name.upper()
    if error.get("type") == "missing":
        return f"{flag} (or {env}) is required"
    message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    return f"{flag} (or {env}): {message}"


def load_settings(args: argparse.Namespace) -> AgentSettings:
    overrides = {key: value for key, value in vars(args).items() if value is not None}
    return AgentSettings(**overrides)


async def _serve(settings: AgentSettings) -> int:
    from .agent import Agent
    from .drivers.protocols import DriverUnavailable

    try:
        agent = Agent(settings)
    except (DriverUnavailable, OSError) as exc:  # OSError: unreadable token or TLS files
        print(f"switchyard-agent: refusing to start: {exc}", file=sys.stderr)
        return 2
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, agent.stop)
    try:
        await agent.run()
    except (DriverUnavailable, OSError) as exc:  # incompatible VPP; metrics address taken
        if agent.started.is_set():
            raise
        print(f"switchyard-agent: refusing to start: {exc}", file=sys.stderr)
        return 2
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings(args)
    except ValidationError as exc:
        problems = "; ".join(_describe(error) for error in exc.errors())
        parser.print_usage(sys.stderr)
        print(f"switchyard-agent: error: {problems}", file=sys.stderr)
        return 2
    logs.setup(settings.log_format, settings.log_level, settings.node)
    return asyncio.run(_serve(settings))


if __name__ == "__main__":
    sys.exit(main())
