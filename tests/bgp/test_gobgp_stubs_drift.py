"""The committed GoBGP stubs in services/node-agent/gobgpapi are what the pinned generators
make of the vendored .proto files in proto/gobgpapi (regenerate with `make protos`, which also
covers switchyard.v1; tests/test_proto_drift.py runs the same check over both packages)."""

from __future__ import annotations

import importlib
import shutil
from pathlib import Path

import pytest

from tests.test_proto_drift import gen

PACKAGE = gen.GOBGP_PACKAGE_DIR
STUBS = gen.STUB_ROOTS[PACKAGE]


def test_gobgp_is_one_of_the_generated_packages() -> None:
    assert PACKAGE in gen.PACKAGES


def test_committed_gobgp_stubs_match_the_protos() -> None:
    problems = gen.check(packages=(PACKAGE,))
    assert not problems, "stale stubs, run `python scripts/gen_protos.py`:\n" + "\n".join(problems)


def test_every_gobgp_proto_has_its_four_stub_files() -> None:
    names = set(gen.generated_files(STUBS, PACKAGE))
    protos = gen.proto_files(gen.PROTO_ROOT, PACKAGE)
    assert {p.name for p in protos} == {"gobgp.proto", "attribute.proto", "capability.proto"}
    for proto in protos:
        for suffix in gen.GENERATED_SUFFIXES:
            assert f"{proto.stem}{suffix}" in names


def test_vendored_protos_import_the_package_path_and_carry_the_license() -> None:
    root = gen.PROTO_ROOT / PACKAGE
    for name in ("attribute.proto", "capability.proto"):
        text = (root / name).read_text()
        assert 'import "gobgpapi/gobgp.proto";' in text
        assert 'import "gobgp.proto";' not in text
    assert "Apache License" in (root / "LICENSE").read_text()


def test_a_stale_gobgp_stub_is_detected(tmp_path: Path) -> None:
    src = tmp_path / "src" / PACKAGE
    src.mkdir(parents=True)
    for proto in (gen.PROTO_ROOT / PACKAGE).glob("*.proto"):
        shutil.copy(proto, src / proto.name)
    gobgp = src / "gobgp.proto"
    text = gobgp.read_text()
    changed = text.replace("message GetBgpRequest {}", "message GetBgpRequest { uint32 x = 1; }")
    assert changed != text
    gobgp.write_text(changed)
    out = tmp_path / "out"
    out.mkdir()
    gen.generate(out, tmp_path / "src", PACKAGE)
    stale = {p.splitlines()[0] for p in gen.compare(out, STUBS, PACKAGE)}
    assert "stale: gobgpapi/gobgp_pb2.py" in stale
    assert "stale: gobgpapi/gobgp_pb2.pyi" in stale
    assert not any("attribute" in s for s in stale)


@pytest.mark.parametrize(
    "module",
    [
        "gobgpapi.gobgp_pb2",
        "gobgpapi.gobgp_pb2_grpc",
        "gobgpapi.attribute_pb2",
        "gobgpapi.capability_pb2",
    ],
)
def test_gobgp_stubs_import_with_the_installed_runtimes(module: str) -> None:
    importlib.import_module(module)
