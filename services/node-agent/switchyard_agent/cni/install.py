"""`switchyard-cni install`: put the plugin and the node's network configuration on the host.

The plugin goes into the CNI bin directory as one self-contained file (a zipapp of the modules
it needs, run by the host's Python >= 3.11), the conflist into the configuration directory with
the node's pod CIDR(s) as host-local ranges. Both are written atomically (temporary file in the
same directory, then rename), the plugin first so that a runtime never sees a configuration
whose plugin is missing, and only when their bytes differ: re-running changes nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import stat
import sys
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, NoReturn

from . import conflist, kubenode

DEFAULT_BIN_DIR = "/opt/cni/bin"
DEFAULT_CONF_DIR = "/etc/cni/net.d"
DEFAULT_CONF_NAME = "10-switchyard.conflist"
DEFAULT_INTERPRETER = "/usr/bin/env python3"
PACKAGE_ROOT = Path(__file__).resolve().parents[1]  # switchyard_agent/
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed, so that the same package gives the same bytes

# Written for any Python 3, so that an old host Python gets a CNI error object, not a traceback.
LAUNCHER = """import sys
if sys.version_info < (3, 11):
    sys.stdout.write('{"cniVersion": "1.0.0", "code": 999, "msg": "switchyard-cni needs'
                     ' Python 3.11 or later on the host; this is %d.%d"}\\n' % sys.version_info[:2])
    sys.exit(1)
from switchyard_agent.cni.plugin import main
sys.exit(main())
"""


class InstallError(Exception):
    """What stops the install: printed as one line, exit status 1, nothing written."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line and status 1, as every other error
        self.exit(1, f"{self.prog}: error: {message} (see --help)\n")


def parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="switchyard-cni install",
        description="Install the switchyard-cni plugin and this node's CNI network "
        "configuration (see docs/pod-attachment.md).",
    )
    p.add_argument("--bin-dir", default=DEFAULT_BIN_DIR, help=f"default {DEFAULT_BIN_DIR}")
    p.add_argument("--conf-dir", default=DEFAULT_CONF_DIR, help=f"default {DEFAULT_CONF_DIR}")
    p.add_argument("--conf-name", default=DEFAULT_CONF_NAME, help=f"default {DEFAULT_CONF_NAME}")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--pod-cidr",
        action="append",
        metavar="CIDR",
        help="the node's pod CIDR; twice (or comma-separated) for dual stack",
    )
    source.add_argument(
        "--from-node",
        metavar="NODE",
        help="read spec.podCIDRs of this Kubernetes Node with the pod's service account",
    )
    p.add_argument(
        "--template",
        metavar="FILE",
        help="a conflist with one switchyard-cni entry (host-local IPAM) whose ranges are "
        "filled in; default: deploy/cni/10-switchyard.conflist's settings",
    )
    p.add_argument(
        "--interpreter",
        default=DEFAULT_INTERPRETER,
        help=f"the plugin's #! line: the host's Python 3.11+ (default {DEFAULT_INTERPRETER})",
    )
    p.add_argument(
        "--service-account-dir",
        default=str(kubenode.SERVICE_ACCOUNT_DIR),
        help="token and ca.crt for --from-node (default %(default)s)",
    )
    return p


def plugin_bytes(interpreter: str) -> bytes:
    """The plugin as a zipapp: the #! line, then a zip of the package's standard-library-only
    modules (switchyard_agent/cni and the paths it imports) with fixed dates and order."""
    if not interpreter.strip() or "\n" in interpreter:
        raise InstallError(f"--interpreter {interpreter!r}: one line naming a Python 3.11+")
    cni_dir = PACKAGE_ROOT / "cni"
    if not cni_dir.is_dir():
        raise InstallError(f"{cni_dir} is not a directory: run install from the agent package")
    files = [
        PACKAGE_ROOT / "__init__.py",
        PACKAGE_ROOT / "attachments" / "__init__.py",
        PACKAGE_ROOT / "attachments" / "paths.py",
        *sorted(cni_dir.glob("*.py")),
    ]
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        entries = [("__main__.py", LAUNCHER.encode())]
        for path in files:
            name = "switchyard_agent/" + path.relative_to(PACKAGE_ROOT).as_posix()
            entries.append((name, path.read_bytes()))
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
    return b"#!" + interpreter.strip().encode() + b"\n" + archive.getvalue()


def write_if_changed(path: Path, data: bytes, mode: int) -> bool:
    """Atomically make `path` hold `data` with `mode`; False (nothing touched) if it already
    does. The temporary name starts with a dot and has no .conf/.conflist/.json suffix, so a
    runtime scanning the directory never loads a half-written file."""
    with contextlib.suppress(FileNotFoundError):
        if stat.S_IMODE(path.stat().st_mode) == mode and path.read_bytes() == data:
            return False
    path.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself survives a crash
    finally:
        os.close(directory)
    return True


def resolve_cidrs(args: argparse.Namespace, environ: Mapping[str, str]) -> list[str]:
    if args.pod_cidr is not None:
        values = [v for arg in args.pod_cidr for v in arg.split(",") if v.strip()]
        return conflist.pod_cidrs(values, "--pod-cidr")
    node_name = str(args.from_node).strip()
    if not node_name:
        raise InstallError("--from-node: empty node name (is NODE_NAME set from spec.nodeName?)")
    node = kubenode.read_node(node_name, environ, Path(args.service_account_dir))
    cidrs = kubenode.pod_cidrs(node)
    if not cidrs:
        raise InstallError(
            f"Node {node_name} has no spec.podCIDRs yet (does the controller manager allocate "
            "node CIDRs, --allocate-node-cidrs?); use --pod-cidr otherwise"
        )
    return conflist.pod_cidrs(cidrs, f"Node {node_name} spec.podCIDRs")


def install(args: argparse.Namespace, environ: Mapping[str, str], out: IO[str]) -> None:
    # Everything is computed before anything is written: an error leaves the host untouched.
    template = None
    if args.template:
        try:
            text = Path(args.template).read_text()
        except OSError as exc:
            raise InstallError(f"--template {args.template}: {exc.strerror or exc}") from None
        template = conflist.load_template(text, f"--template {args.template}")
    if "/" in args.conf_name or not args.conf_name.endswith(".conflist"):
        raise InstallError(f"--conf-name {args.conf_name!r}: a file name ending in .conflist")
    cidrs = resolve_cidrs(args, environ)
    network = conflist.render(cidrs, template)
    plugin = plugin_bytes(args.interpreter)
    bin_dir, conf_dir = Path(args.bin_dir), Path(args.conf_dir)
    for path, data, mode in (
        (bin_dir / conflist.PLUGIN_TYPE, plugin, 0o755),
        (conf_dir / args.conf_name, network, 0o644),
    ):
        try:
            changed = write_if_changed(path, data, mode)
        except OSError as exc:
            raise InstallError(f"writing {path}: {exc.strerror or exc}") from None
        print(f"{'installed' if changed else 'unchanged'} {path}", file=out)
    print(f"pod CIDRs: {', '.join(cidrs)}", file=out)
    if not (bin_dir / "host-local").exists():
        print(f"warning: no host-local in {bin_dir}: the runtime's CNI_PATH must hold it "
              "(containernetworking-plugins)", file=sys.stderr)  # fmt: skip


def main(argv: Sequence[str], environ: Mapping[str, str] | None = None) -> int:
    args = parser().parse_args(list(argv))
    try:
        install(args, os.environ if environ is None else environ, sys.stdout)
    except (InstallError, conflist.ConflistError, kubenode.KubeError) as exc:
        message = " ".join(str(exc).split())  # one line, whatever the cause said
        print(f"switchyard-cni install: error: {message}", file=sys.stderr)
        return 1
    return 0
