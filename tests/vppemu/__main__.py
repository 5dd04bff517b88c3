"""python -m tests.vppemu --socket PATH [--apidir DIR] [--control PATH]
[--drop-message NAME ...] [--corrupt-crc NAME ...]"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path

from .apidir import SEARCHED, default_api_dir
from .control import ControlServer
from .definitions import ApiDefinitions
from .server import ApiServer


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m tests.vppemu", description=__doc__)
    p.add_argument("--socket", required=True, type=Path, help="API socket path")
    p.add_argument(
        "--apidir",
        type=Path,
        default=None,
        help="API definitions (default: the first of " + SEARCHED + ")",
    )
    p.add_argument(
        "--control", type=Path, default=None, help="control socket (default: <socket>.ctl)"
    )
    p.add_argument(
        "--drop-message",
        action="append",
        default=[],
        metavar="NAME",
        help="leave NAME out of the advertised message table",
    )
    p.add_argument(
        "--corrupt-crc",
        action="append",
        default=[],
        metavar="NAME",
        help="advertise NAME with a wrong CRC",
    )
    return p.parse_args(argv)


async def run(args: argparse.Namespace) -> None:
    api = ApiDefinitions(
        args.apidir or default_api_dir(),
        drop_messages=tuple(args.drop_message),
        corrupt_crcs=tuple(args.corrupt_crc),
    )
    server = ApiServer(args.socket, api)
    control = ControlServer(args.control or Path(f"{args.socket}.ctl"), server)
    await server.start()
    await control.start()
    print(
        f"vppemu: serving {len(api.message_table())} messages on {args.socket} "
        f"(control {control.path})",
        file=sys.stderr,
        flush=True,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await control.close()
    await server.close()


def main(argv: list[str] | None = None) -> None:
    asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    main()
