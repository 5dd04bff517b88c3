"""The committed stubs in services/contract/switchyard/v1 are what the pinned generators make
of the .proto files in proto/switchyard/v1 (regenerate with `python scripts/gen_protos.py`)."""

from __future__ import annotations

import importlib
import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parent.parent


def _load_gen_protos() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_protos", REPO / "scripts" / "gen_protos.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("gen_protos", module)
    spec.loader.exec_module(module)
    return module


gen = _load_gen_protos()
STUBS = gen.STUB_ROOTS[gen.PACKAGE_DIR]


def _copy_protos(dst: Path) -> Path:
    pkg: Path = dst / gen.PACKAGE_DIR
    pkg.mkdir(parents=True)
    for proto in (gen.PROTO_ROOT / gen.PACKAGE_DIR).glob("*.proto"):
        shutil.copy(proto, pkg / proto.name)
    return pkg


def test_committed_stubs_match_the_protos() -> None:
    problems = gen.check()
    assert not problems, "stale stubs, run `python scripts/gen_protos.py`:\n" + "\n".join(problems)


def test_every_proto_has_its_four_stub_files() -> None:
    names = set(gen.generated_files(STUBS))
    for proto in gen.proto_files():
        stem = proto.stem
        for suffix in gen.GENERATED_SUFFIXES:
            assert f"{stem}{suffix}" in names


def test_a_changed_proto_is_detected(tmp_path: Path) -> None:
    pkg = _copy_protos(tmp_path / "src")
    proto = pkg / "nodeconfig.proto"
    text = proto.read_text()
    changed = text.replace("  string remote = 2;\n", "  string remote = 2;\n  uint32 key = 3;\n")
    assert changed != text
    proto.write_text(changed)
    out = tmp_path / "out"
    out.mkdir()
    gen.generate(out, tmp_path / "src")
    problems = gen.compare(out, STUBS)
    stale = {p.splitlines()[0] for p in problems}
    assert "stale: switchyard/v1/nodeconfig_pb2.py" in stale
    assert "stale: switchyard/v1/nodeconfig_pb2.pyi" in stale
    assert not any("distribution" in s for s in stale)


def test_missing_and_extra_stubs_are_detected(tmp_path: Path) -> None:
    committed = tmp_path / "committed" / gen.PACKAGE_DIR
    committed.mkdir(parents=True)
    for name, path in gen.generated_files(STUBS).items():
        shutil.copy(path, committed / name)
    (committed / "nodeconfig_pb2_grpc.pyi").unlink()
    (committed / "old_pb2.py").write_text("")
    problems = gen.compare(STUBS, tmp_path / "committed")
    assert problems == [
        "missing: switchyard/v1/nodeconfig_pb2_grpc.pyi",
        "not generated: switchyard/v1/old_pb2.py",
    ]


def test_generation_does_not_depend_on_the_checkout_path(tmp_path: Path) -> None:
    """Generation does not depend on where the sources live (no absolute paths in output)."""
    _copy_protos(tmp_path / "src")
    out = tmp_path / "out"
    out.mkdir()
    gen.generate(out, tmp_path / "src")
    assert gen.compare(out, STUBS) == []


@pytest.mark.parametrize(
    "module",
    [
        "switchyard.v1.nodeconfig_pb2",
        "switchyard.v1.distribution_pb2",
        "switchyard.v1.distribution_pb2_grpc",
    ],
)
def test_stubs_import_with_the_installed_runtimes(module: str) -> None:
    """The generated code refuses a protobuf older than protoc's, or a grpcio older than
    grpcio-tools': importing it is the check."""
    importlib.import_module(module)
