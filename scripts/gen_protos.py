#!/usr/bin/env python3
"""Generate the committed Python stubs of proto/switchyard/v1/*.proto and proto/gobgpapi/*.proto.

    python scripts/gen_protos.py          # regenerate (or: make protos)
    python scripts/gen_protos.py --check  # exit 1 if the committed stubs are stale

The .proto sources live under proto/; the stubs go into the distribution that ships them
(STUB_ROOTS): switchyard/v1 into services/contract (switchyard-contract), gobgpapi into
services/node-agent (only the agent speaks to GoBGP).

Two packages (PACKAGES), each generated on its own from `proto/` as include root:
`switchyard/v1` (our contract) and `gobgpapi` (GoBGP 3.10's API, vendored from Debian's
golang-github-osrg-gobgp-dev with `import "gobgp.proto"` rewritten to
`import "gobgpapi/gobgp.proto"`; see proto/gobgpapi/README.md). The functions below take a
`package` (default: switchyard/v1); `check()` and `write()` cover every package by default.

Run it with the project's venv (`make test` installs it): it uses the pinned grpcio-tools
(protoc and the gRPC plugin) and mypy-protobuf (typed .pyi stubs for messages and for the
sync/asyncio gRPC stubs), and refuses to run with other versions, because their output
differs. For each .proto it writes `<name>_pb2.py`, `<name>_pb2.pyi`, `<name>_pb2_grpc.py`
and `<name>_pb2_grpc.pyi`. protoc's own `--pyi_out` is not used: it clashes with
mypy-protobuf's `--mypy_out` (both write `_pb2.pyi`).

The script depends on nothing from switchyard; tests/test_proto_drift.py imports it.
"""

from __future__ import annotations

import argparse
import difflib
import importlib.metadata
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = REPO_ROOT / "proto"
PACKAGE_DIR = Path("switchyard") / "v1"  # relative to PROTO_ROOT
GOBGP_PACKAGE_DIR = Path("gobgpapi")  # GoBGP's vendored API protos
PACKAGES = (PACKAGE_DIR, GOBGP_PACKAGE_DIR)
# Where each package's stubs are committed: the root that holds the importable package.
STUB_ROOTS = {
    PACKAGE_DIR: REPO_ROOT / "services" / "contract",
    GOBGP_PACKAGE_DIR: REPO_ROOT / "services" / "node-agent",
}

# Generated output depends on these exact versions; keep them equal to requirements/dev.txt.
PINNED_GENERATORS = {"grpcio-tools": "1.85.1", "mypy-protobuf": "5.1.0"}
GENERATED_SUFFIXES = ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py", "_pb2_grpc.pyi")


class GeneratorError(RuntimeError):
    pass


def check_generator_versions() -> None:
    wrong = []
    for dist, pinned in PINNED_GENERATORS.items():
        try:
            installed = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            installed = "not installed"
        if installed != pinned:
            wrong.append(f"{dist}=={pinned} is pinned, found {installed}")
    if wrong:
        raise GeneratorError(
            "wrong stub generator versions (install the dev extras): " + "; ".join(wrong)
        )


def _plugin(name: str) -> str:
    """The protoc plugin executable installed next to this interpreter (or on PATH)."""
    bindir = Path(sys.executable).parent
    found = shutil.which(name, path=str(bindir)) or shutil.which(name)
    if found is None:
        raise GeneratorError(f"{name} not found (is mypy-protobuf installed?)")
    return found


def proto_files(proto_root: Path = PROTO_ROOT, package: Path = PACKAGE_DIR) -> list[Path]:
    """The .proto files of a package, relative to proto_root, in a stable order."""
    return sorted(p.relative_to(proto_root) for p in (proto_root / package).glob("*.proto"))


def generate(out_dir: Path, proto_root: Path = PROTO_ROOT, package: Path = PACKAGE_DIR) -> None:
    """Run protoc over every .proto of a package under proto_root into out_dir (which must
    exist)."""
    check_generator_versions()
    files = proto_files(proto_root, package)
    if not files:
        raise GeneratorError(f"no .proto files in {proto_root / package}")
    out = str(out_dir.resolve())
    cmd = [
        sys.executable,
        "-m",
        "grpc_tools.protoc",  # also puts the well-known types on the include path
        "-I.",
        f"--plugin=protoc-gen-mypy={_plugin('protoc-gen-mypy')}",
        f"--plugin=protoc-gen-mypy_grpc={_plugin('protoc-gen-mypy_grpc')}",
        f"--python_out={out}",
        f"--grpc_python_out={out}",
        f"--mypy_out={out}",
        f"--mypy_grpc_out={out}",
        *(p.as_posix() for p in files),
    ]
    # Relative paths from inside proto_root: the output does not depend on the checkout path.
    result = subprocess.run(cmd, cwd=proto_root, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise GeneratorError(f"protoc failed ({result.returncode}):\n{result.stderr}")


def generated_files(root: Path, package: Path = PACKAGE_DIR) -> dict[str, Path]:
    """Generated stub files under root/<package>, by file name."""
    pkg = root / package
    if not pkg.is_dir():
        return {}
    return {p.name: p for p in sorted(pkg.iterdir()) if p.name.endswith(GENERATED_SUFFIXES)}


def compare(expected_root: Path, actual_root: Path, package: Path = PACKAGE_DIR) -> list[str]:
    """Differences between freshly generated stubs (expected) and committed ones (actual)."""
    expected = generated_files(expected_root, package)
    actual = generated_files(actual_root, package)
    problems = [f"missing: {package / n}" for n in sorted(expected.keys() - actual.keys())]
    problems += [f"not generated: {package / n}" for n in sorted(actual.keys() - expected)]
    for name in sorted(expected.keys() & actual.keys()):
        want, have = expected[name].read_bytes(), actual[name].read_bytes()
        if want != have:
            diff = difflib.unified_diff(
                have.decode(errors="replace").splitlines(),
                want.decode(errors="replace").splitlines(),
                f"committed/{name}",
                f"generated/{name}",
                lineterm="",
                n=1,
            )
            problems.append(f"stale: {package / name}\n" + "\n".join(list(diff)[:40]))
    return problems


def check(
    proto_root: Path = PROTO_ROOT,
    stubs_root: Path | None = None,
    packages: Sequence[Path] = PACKAGES,
) -> list[str]:
    """Regenerate each package into a temporary directory and compare with the committed
    stubs (under stubs_root when given, else under the package's STUB_ROOTS entry)."""
    problems: list[str] = []
    for package in packages:
        with tempfile.TemporaryDirectory(prefix="switchyard-protos-") as tmp:
            generate(Path(tmp), proto_root, package)
            problems += compare(Path(tmp), stubs_root or STUB_ROOTS[package], package)
    return problems


def write(proto_root: Path = PROTO_ROOT, packages: Sequence[Path] = PACKAGES) -> list[str]:
    """Regenerate in place: replace changed stubs, delete stubs whose .proto is gone."""
    changed = []
    for package in packages:
        with tempfile.TemporaryDirectory(prefix="switchyard-protos-") as tmp:
            generate(Path(tmp), proto_root, package)
            fresh = generated_files(Path(tmp), package)
            stubs_root = STUB_ROOTS[package]
            committed = generated_files(stubs_root, package)
            for name, path in committed.items():
                if name not in fresh:
                    path.unlink()
                    changed.append(f"deleted {package / name}")
            for name, path in fresh.items():
                target = stubs_root / package / name
                data = path.read_bytes()
                if not target.exists() or target.read_bytes() != data:
                    target.write_bytes(data)
                    changed.append(f"wrote {package / name}")
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="do not write; exit 1 if the stubs are stale"
    )
    args = parser.parse_args(argv)
    try:
        if args.check:
            problems = check()
            for problem in problems:
                print(problem, file=sys.stderr)
            if problems:
                print("stubs are stale: run `python scripts/gen_protos.py`", file=sys.stderr)
                return 1
            print("stubs are up to date")
            return 0
        changed = write()
    except GeneratorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("\n".join(changed) if changed else "stubs were already up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
