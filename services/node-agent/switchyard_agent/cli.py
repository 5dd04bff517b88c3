"""`switchyard-agent`: the node agent (its stream client and drivers land with later issues)."""

from __future__ import annotations

import argparse
import sys

from . import __version__


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="switchyard-agent", description="Switchyard node agent")
    parser.add_argument("--version", action="version", version=f"switchyard-agent {__version__}")
    parser.parse_args(argv)
    print("switchyard-agent: the distribution stream is not implemented yet", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
